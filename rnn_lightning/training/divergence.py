"""Stops a run whose loss has become NaN or infinite, instead of training on garbage to the end."""

from typing import Any

import lightning as L
import torch
from typing_extensions import override

from rnn_lightning.errors import TrainingDiverged


class StopOnNonFiniteLoss(L.Callback):
    """Checks the training loss every `check_every_n_steps` steps (one host sync each time, none in
    between) and raises `TrainingDiverged`; `FinalStepCheckpoint` then writes nothing of that state, so
    the last checkpoint on disk is the last good one."""

    def __init__(self, check_every_n_steps: int = 50) -> None:
        if check_every_n_steps < 1:
            raise ValueError(f"check_every_n_steps must be at least 1, got {check_every_n_steps}")
        self.check_every_n_steps = check_every_n_steps

    @override
    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if step % self.check_every_n_steps == 0 or step == 1:
            loss = outputs["loss"] if isinstance(outputs, dict) else outputs
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"the training loss became {float(loss)} at step {step}; lower the learning rate "
                    "or clip gradients (--trainer.gradient_clip_val); the last good checkpoint is kept"
                )
