"""Writing the exported file so that nothing written before is lost: the bytes go to a temporary file in
the output folder, which is then linked to the output name (refused if it exists, unless asked to replace
it) and removed; a failure at any point leaves the folder as it was."""

import contextlib
import os
import tempfile
from pathlib import Path

from rnn_lightning.errors import UserInputError


def check_output(path: Path, overwrite: bool) -> None:
    """One clear line now, before any work, for an output that cannot or must not be written."""
    if not path.parent.is_dir():
        raise UserInputError(f"--output {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise UserInputError(f"--output {path} is a folder; name the file to write")
    if path.exists() and not overwrite:
        raise UserInputError(f"--output {path} exists; pass --overwrite to replace it")


def write_new(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Writes `data` to `path` whole or not at all; an existing `path` is kept unless `overwrite`."""
    check_output(path, overwrite)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise UserInputError(f"--output {path}: cannot write in {path.parent}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(file.fileno(), 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_new(Path(temporary), path, data)
    except OSError as error:
        raise UserInputError(f"--output {path} cannot be written: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _link_new(temporary: Path, path: Path, data: bytes) -> None:
    """A hard link fails if `path` exists, whoever made it meanwhile: never a silent replacement. Where the
    file system has no hard links, an exclusive create does the same, and is removed if writing fails."""
    try:
        os.link(temporary, path)
        return
    except FileExistsError:
        raise UserInputError(f"--output {path} exists; pass --overwrite to replace it") from None
    except OSError:
        pass  # no hard links here (some network and FAT file systems)
    try:
        with open(path, "xb") as file:
            try:
                file.write(data)
            except OSError:
                path.unlink()
                raise
    except FileExistsError:
        raise UserInputError(f"--output {path} exists; pass --overwrite to replace it") from None
