"""Ctrl-C during fit stops at the end of the current step and saves it, as SIGTERM does."""

import os
import signal
import sys
import threading
from types import FrameType

import lightning as L
from typing_extensions import override


class CheckpointOnInterrupt(L.Callback):
    """Turns the first SIGINT of a fit into a SIGTERM to this process. Lightning handles SIGTERM at the
    next step boundary (never in the middle of an optimizer step) by raising `SIGTERMException`, and
    `FinalStepCheckpoint.on_exception` saves `last.ckpt` of that step. A second Ctrl-C interrupts at once.
    """

    def __init__(self) -> None:
        self._previous: signal.Handlers | None = None

    @override
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._restore()  # a second Ctrl-C raises KeyboardInterrupt as usual
        print(
            "\nInterrupted: stopping after this step and saving it (Ctrl-C again to stop at once)",
            file=sys.stderr,
            flush=True,
        )
        os.kill(os.getpid(), signal.SIGTERM)

    def _restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    @override
    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._restore()
