"""Lightning's tqdm progress bar on stderr, so that stdout carries only results: `predict > file` is clean;
Lightning's log lines are written above the bar, not after it."""

import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from tqdm import TqdmWarning
from typing_extensions import override

# tqdm.contrib imports tqdm.auto, which in a Jupyter kernel without ipywidgets warns "IProgress not found";
# this bar is tqdm's plain one on stderr wherever it runs, never the notebook widget that warning is about.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
    from tqdm.contrib.logging import logging_redirect_tqdm

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")


@contextmanager
def logs_above_the_bar() -> Iterator[None]:
    """Lightning's console log lines written through `tqdm.write` (tqdm's documented logging bridge): an
    open bar is lifted off its line for the message and drawn again under it, once. Without it a line
    such as "`Trainer.fit` stopped: `max_steps=1000` reached." is glued to the end of the bar, and the
    bar is drawn a second time under it when it closes."""
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    # Only the loggers that print themselves (Lightning's own handler): one that hands its lines to the
    # root logger's handlers (Lightning's choice when the root has some) keeps them.
    consoles = [logger for logger in loggers if any(writes_to_console(h) for h in logger.handlers)]
    with logging_redirect_tqdm(loggers=consoles):
        yield


def writes_to_console(handler: logging.Handler) -> bool:
    """Whether `handler` prints on the terminal's stdout or stderr (as tqdm's bridge replaces)."""
    return isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.stderr)


class StderrProgressBar(TQDMProgressBar):
    """`TQDMProgressBar` whose bars draw on stderr. Each of its documented `init_*_tqdm` hooks builds
    Lightning's own bar while `sys.stdout` names stderr, the file Lightning passes to tqdm."""

    @override
    def init_sanity_tqdm(self) -> Tqdm:
        with redirect_stdout(sys.stderr):
            return super().init_sanity_tqdm()

    @override
    def init_train_tqdm(self) -> Tqdm:
        with redirect_stdout(sys.stderr):
            return super().init_train_tqdm()

    @override
    def init_validation_tqdm(self) -> Tqdm:
        with redirect_stdout(sys.stderr):
            return super().init_validation_tqdm()

    @override
    def init_test_tqdm(self) -> Tqdm:
        with redirect_stdout(sys.stderr):
            return super().init_test_tqdm()

    @override
    def init_predict_tqdm(self) -> Tqdm:
        with redirect_stdout(sys.stderr):
            return super().init_predict_tqdm()
