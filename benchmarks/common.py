"""What the benchmark scripts share: the CLI-built fit path of a config, and a step clock."""

import itertools
import statistics
import sys
import time
from pathlib import Path

import lightning as L
import torch

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from rnn_lightning.cli.lightning_cli import RNNLightningCLI, build_cli  # noqa: E402


def fit_cli(data_dir: str, logs: str, *overrides: str, config: str = "default.yaml") -> RNNLightningCLI:
    """`python -m rnn_lightning fit --config configs/CONFIG`, built but not run; it logs to `logs`."""
    arguments = ["--config", str(PROJECT / "configs" / config), "--data.data_dir", data_dir]
    arguments += ["--trainer.logger.init_args.save_dir", logs, *overrides]
    return build_cli(arguments, run=False)


def synchronize(device: torch.device) -> None:
    """Waits for the GPU's queued work, so that a clock reading means the work is done."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class StepClock(L.Callback):
    """The time of the end of every training step from step `warmup` on (validation excluded)."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.ends = warmup, []

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step >= self.warmup:
            synchronize(trainer.strategy.root_device)
            self.ends.append(time.perf_counter())

    def on_validation_start(self, trainer, pl_module) -> None:
        if self.ends and not trainer.sanity_checking:
            self.ends.append(None)  # a gap: the period across a validation is not a training step


def step_rate(ends: list[float | None], batch_size: int) -> float:
    """Samples/s from the median step period: a burst of load from elsewhere on a shared 2-core machine
    slows a few steps of one path; the median ignores those and the mean would not."""
    periods = [b - a for a, b in itertools.pairwise(ends) if a is not None and b is not None]
    return batch_size / statistics.median(periods)
