"""Ctrl-C or SIGTERM during fit stops at the end of the current step and saves it; each says so by name."""

import logging
import os
import signal
import sys
import threading
from types import FrameType

import lightning as L
from typing_extensions import override

LIGHTNING_SIGNAL_LOGGER = "lightning.pytorch.trainer.connectors.signal_connector"
LIGHTNING_SIGTERM_LINE = "Received SIGTERM: "  # "[rank: 0] Received SIGTERM: 15", whatever the signal was


class DropLightningSigtermLine(logging.Filter):
    """Drops Lightning's "Received SIGTERM" line: the callback has said which signal it was, in words."""

    def filter(self, record: logging.LogRecord) -> bool:
        return LIGHTNING_SIGTERM_LINE not in record.getMessage()


class CheckpointOnInterrupt(L.Callback):
    """Turns the first SIGINT of a fit into a SIGTERM to this process. Lightning handles SIGTERM at the
    next step boundary (never in the middle of an optimizer step) by raising `SIGTERMException`, and
    `FinalStepCheckpoint.on_exception` saves `last.ckpt` of that step. A second Ctrl-C interrupts at once.

    Lightning logs "Received SIGTERM: 15" for either; this prints "Ctrl-C: ..." or "SIGTERM: ..."
    instead, and sets `stopped_by` ("Ctrl-C" or "SIGTERM") on the exception, for the command's last line.
    """

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}  # the handlers before the fit's: restored after it
        self._stopped_by: str | None = None
        self._fitting = False
        self._speaks = True  # rank zero only, so that each line appears once under DDP
        self._filter = DropLightningSigtermLine()

    @override
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._stopped_by, self._fitting, self._speaks = None, True, trainer.is_global_zero
        # Lightning installs its SIGTERM handler after this hook, and calls this one after its own.
        self._previous = {
            signal.SIGINT: signal.signal(signal.SIGINT, self._on_ctrl_c),
            signal.SIGTERM: signal.signal(signal.SIGTERM, self._on_sigterm),
        }
        logging.getLogger(LIGHTNING_SIGNAL_LOGGER).addFilter(self._filter)

    def _say(self, line: str) -> None:
        if self._speaks:
            print(f"\n{line}", file=sys.stderr, flush=True)

    def _on_ctrl_c(self, signum: int, frame: FrameType | None) -> None:
        if not self._fitting or self._stopped_by is not None:
            raise KeyboardInterrupt  # a second Ctrl-C stops at once, as Python's own handler would
        self._stopped_by = "Ctrl-C"
        self._say("Ctrl-C: stopping after this step and saving it (Ctrl-C again to stop at once)")
        os.kill(os.getpid(), signal.SIGTERM)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if not self._fitting:  # Lightning's teardown left this handler in place: SIGTERM's default
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        if self._stopped_by is None:
            self._stopped_by = "SIGTERM"
            self._say("SIGTERM: stopping after this step and saving it")

    @override
    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if self._stopped_by is not None:
            exception.stopped_by = self._stopped_by  # type: ignore[attr-defined]
        self._end()

    @override
    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._end()

    def _end(self) -> None:
        """Restores the handlers from before the fit (on an exception Lightning then puts this callback's
        back, which then act as those did: a Ctrl-C raises KeyboardInterrupt, a SIGTERM ends the process)."""
        self._fitting = False
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous = {}
        logging.getLogger(LIGHTNING_SIGNAL_LOGGER).removeFilter(self._filter)
