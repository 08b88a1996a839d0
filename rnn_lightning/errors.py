"""Errors that the command line turns into a one-line message and a non-zero exit, never a traceback."""


class RnnLightningError(Exception):
    """A failure the user can act on; the message says what happened and where, on one line."""


class UserInputError(RnnLightningError):
    """Bad input: a config value, a data folder, an image file or a checkpoint."""


class TrainingDiverged(RnnLightningError):
    """The loss or the weights became NaN or infinite; no checkpoint of that state is written."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (libraries explain over several), or its type's name where it
    has none: what a one-line error shows of another library's exception."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
