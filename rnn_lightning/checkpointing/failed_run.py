"""A command that fails before it has written anything of its own (a checkpoint, a report, the predictions
of the files read before a bad one) leaves no `version_N` folder behind: the folder holds only its config,
hyper-parameters and an events file, which TensorBoard would list as a run.

Removed, not marked: TensorBoard lists every folder that holds an events file, whatever its name or any
file beside it, so a marked husk would still show as a run. Only a folder that this command created (it
did not exist when the run was set up) and that holds nothing of its own is removed, by rank zero, on the
failure path; a run stopped after its first checkpoint (Ctrl-C, SIGTERM, a crash) keeps its folder.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import lightning as L


@dataclass
class NewRunFolder:
    """The log folder a run is about to create, the first of its parents that did not exist either (the
    folder itself, or `lightning_logs/` of a first run), and the Trainer that will write it."""

    path: Path
    first_new: Path
    trainer: L.Trainer

    def holds_its_own(self) -> bool:
        """Any file but those every run's folder holds from its start."""
        return any(
            path.is_file() and path.name not in LOGGER_FILES and not path.name.startswith(EVENTS)
            for path in self.path.rglob("*")
        )

    def remove_unless_it_holds_its_own(self) -> bool:
        """Removes the folder, on rank zero, if it holds nothing of its own (`holds_its_own`), and then
        its parents up to `first_new` that this left empty; returns whether it removed the folder."""
        if not self.trainer.is_global_zero or not self.path.is_dir():
            return False
        if self.holds_its_own():
            return False
        shutil.rmtree(self.path, ignore_errors=True)
        folder = self.path
        while folder != self.first_new and self.first_new in folder.parents:
            folder = folder.parent
            if any(folder.iterdir()):
                break
            folder.rmdir()
        return True


LOGGER_FILES = ("config.yaml", "hparams.yaml")
"""What every run's folder holds from its start (SaveConfigCallback's, the TensorBoard logger's), beside
its events files."""
EVENTS = "events.out.tfevents."

_watched: list[NewRunFolder] = []
"""The folders of this command's runs, between `watch_new_run_folder` and the end of
`removed_if_the_command_fails` (one command, one process: no other state is kept)."""


def watch_new_run_folder(trainer: L.Trainer) -> None:
    """Before the Trainer runs: notes its logger's folder if it does not exist yet (then it is this run's
    own, removable should the command fail). `logger.log_dir` fixes the version
    without creating it and without DDP's broadcast, which cannot run before the processes start."""
    logger = trainer.logger
    log_dir = getattr(logger, "log_dir", None) if logger is not None else None
    if log_dir is None or Path(log_dir).exists():
        return
    path = Path(log_dir).absolute()
    first_new = path
    while not first_new.parent.exists():
        first_new = first_new.parent
    _watched.append(NewRunFolder(path, first_new, trainer))


@contextmanager
def removed_if_the_command_fails() -> Iterator[None]:
    """Around a whole command: on any exception (a bad value found at start, a NaN, Ctrl-C, a crash) the
    new run folders that hold nothing of their own are removed, after Lightning has closed its loggers; the
    exception then goes on as it was."""
    try:
        yield
    except BaseException:
        for folder in _watched:
            folder.remove_unless_it_holds_its_own()
        raise
    finally:
        _watched.clear()
