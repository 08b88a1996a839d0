"""Lightning's tqdm progress bar on stderr, so that stdout carries only results: `predict > file` is clean."""

import sys
from contextlib import redirect_stdout

from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from typing_extensions import override


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
