"""`ModelCheckpoint` whose `last.ckpt` always holds the weights that training ended with."""

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from typing_extensions import override


class FinalStepCheckpoint(ModelCheckpoint):
    """Lightning saves `last.ckpt` after each validation and at train end only if it never saved one; a
    run stopped by `max_steps` in mid-epoch would leave `last.ckpt` at the last validation. This one
    writes it again when training ends at a later step, so `test --ckpt_path last.ckpt` tests the end."""

    @override
    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        super().on_train_end(trainer, pl_module)
