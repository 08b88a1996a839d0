"""The one exception type that the command line turns into a one-line message instead of a traceback."""


class UserInputError(Exception):
    """Bad input from the user (config, data folder, checkpoint): the message says what and where."""
