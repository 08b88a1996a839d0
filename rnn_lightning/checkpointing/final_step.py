"""The checkpoint callback of every run: `last.ckpt` always holds the step training stopped at, and never
bad weights."""

import sys
from functools import cached_property
from typing import Any

import lightning as L
import torch
from typing_extensions import override

from rnn_lightning.errors import TrainingDiverged
from rnn_lightning.workarounds.model_checkpoint_saves import ModelCheckpointSaves


class FinalStepCheckpoint(ModelCheckpointSaves):
    """Three changes to Lightning's `ModelCheckpoint`:

    - `last.ckpt` is written again when training ends at a later step than the last validation
      (Lightning writes it at train end only if it never wrote one), so a run stopped by `max_steps`
      in mid-epoch resumes, exactly, and tests from where it stopped; a validation on that final step
      still competes for the best checkpoint;
    - on an exception in fit (Ctrl-C, SIGTERM, a crash) it writes `last.ckpt` of the step reached, and
      nothing else (no "best-" file of a score never measured);
    - weights that are NaN or infinite are never written: the save raises `TrainingDiverged` instead.
    """

    _final_step_saved: int | None = None  # the step whose `last.ckpt` `on_train_batch_end` wrote

    @cached_property
    @override
    def state_key(self) -> str:
        # Lightning formats this key (a repr of the settings) at every hook call, six a training step;
        # the settings are fixed once built, so format it once.
        return super().state_key

    _stage: str | None = None  # the stage of the Trainer's run: only `fit` saves checkpoints

    @override
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        self._stage = stage

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # `test` and `predict` save no checkpoint, so the saved bookkeeping has no use there; Lightning
        # would warn on every such run that its folder differs from the new run's ("The dirpath has
        # changed..."). Resuming a fit (`setup` runs before the restore) still loads it.
        if self._stage == "fit":
            super().load_state_dict(state_dict)

    @override
    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        # The final step of a `max_steps` run is saved here, in mid-epoch, where Lightning's loops
        # resume exactly; at `on_train_end` they have already closed the epoch.
        final = 0 < trainer.max_steps <= trainer.global_step
        if final and self.save_last and self.last_saved_step != trainer.global_step:
            self.save_last_now(trainer)
            self._final_step_saved = trainer.global_step

    @override
    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._final_step_saved != trainer.global_step or trainer.sanity_checking:
            super().on_validation_end(trainer, pl_module)
            return
        # A validation on the final step runs after `last.ckpt` was saved there, which stays as it is (a
        # save after the validation would not resume exactly); Lightning would skip this validation as
        # "already saved at this step": it is scored for the best checkpoint instead.
        self.score_for_best_now(trainer)

    @override
    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning's own `on_train_end` writes last.ckpt under `fast_dev_run`, which its docs say saves
        # nothing (2.6.6; tests/workarounds says when that is fixed)
        if trainer.fast_dev_run:
            return
        if self.save_last and self.last_saved_step != trainer.global_step:
            self.save_last_now(trainer)
        super().on_train_end(trainer, pl_module)

    @override
    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if (
            isinstance(exception, TrainingDiverged)
            or not self.save_last
            or trainer.state.fn != "fit"
            or trainer.sanity_checking
            or trainer.global_step == 0
            or self.last_saved_step == trainer.global_step
        ):
            return
        self.save_last_now(trainer)
        print(f"Saved {self.last_model_path} at step {trainer.global_step}", file=sys.stderr, flush=True)

    @override
    def check_before_write(self, trainer: L.Trainer) -> None:
        module: Any = trainer.lightning_module
        if not all(torch.isfinite(p).all() for p in module.parameters()):
            raise TrainingDiverged(
                f"the weights became NaN or infinite by step {trainer.global_step}; not saving them, "
                "the last good checkpoint is kept; lower the learning rate or clip gradients"
            )
