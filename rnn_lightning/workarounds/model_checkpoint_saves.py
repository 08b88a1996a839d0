"""Workaround: `ModelCheckpoint`'s saves called at moments Lightning does not offer, and a check before
every write (for `checkpointing.final_step.FinalStepCheckpoint`, which decides when).

No public option of `ModelCheckpoint` saves `last.ckpt` at a `max_steps` end in mid-epoch, where the loops
resume exactly, nor scores a validation on a step already saved, nor refuses to write NaN weights; so this
calls its private `_save_last_checkpoint`, `_save_topk_checkpoint`, `_monitor_candidates` and
`_last_global_step_saved`, and overrides `_save_checkpoint`. Upstream: no Lightning issue found; the same
gap was reported downstream in https://github.com/ecmwf/anemoi-training/issues/183. Checked on Lightning
2.6.6. Tests: tests/workarounds/test_workarounds.py fails when one of these private names goes (then
rewrite this module on what replaced them); tests/checkpointing/test_checkpoint.py,
tests/training/test_resume.py and tests/training/test_divergence.py check the behaviour built on them.
"""

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from typing_extensions import override

PRIVATE_NAMES = (
    "_save_last_checkpoint",
    "_save_topk_checkpoint",
    "_monitor_candidates",
    "_last_global_step_saved",
    "_save_checkpoint",
)


class ModelCheckpointSaves(ModelCheckpoint):
    """`ModelCheckpoint` with its private saves as three calls and one hook."""

    @property
    def last_saved_step(self) -> int:
        """The global step of the latest checkpoint this callback wrote."""
        return self._last_global_step_saved

    def save_last_now(self, trainer: L.Trainer) -> None:
        """Writes `last.ckpt` of the current step, as Lightning does after a validation (not under
        `fast_dev_run`, where Lightning's own saves write nothing)."""
        if not trainer.fast_dev_run:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def score_for_best_now(self, trainer: L.Trainer) -> None:
        """Scores the current step's metrics for the best (top-k) checkpoints, saving one if it is best
        (not under `fast_dev_run`)."""
        if not trainer.fast_dev_run:
            self._save_topk_checkpoint(trainer, self._monitor_candidates(trainer))

    def check_before_write(self, trainer: L.Trainer) -> None:
        """Called before every checkpoint file is written; raise to write nothing."""

    @override
    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        self.check_before_write(trainer)
        super()._save_checkpoint(trainer, filepath)
