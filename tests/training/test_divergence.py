"""A NaN or infinite loss stops the run with a clear error and keeps the last good checkpoint."""

import lightning as L
import pytest
import torch

from rnn_lightning import FinalStepCheckpoint, MNISTDataModule, SequenceClassifier, StopOnNonFiniteLoss
from rnn_lightning.errors import TrainingDiverged


class PoisonedClassifier(SequenceClassifier):
    """Trains normally, then its head's weights turn NaN after step `poison_at`."""

    def __init__(self, poison_at: int) -> None:
        super().__init__(hidden_size=16)
        self.poison_at = poison_at

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if self.global_step == self.poison_at:
            with torch.no_grad():
                self.network.head.weight.fill_(float("nan"))


@pytest.mark.parametrize("check_every", [1, 50])
def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, fake_data_dir, check_every):
    checkpoint = FinalStepCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True)
    trainer = L.Trainer(
        default_root_dir=tmp_path,
        accelerator="cpu",
        max_steps=100,
        val_check_interval=5,
        limit_val_batches=1,
        callbacks=[StopOnNonFiniteLoss(check_every_n_steps=check_every), checkpoint],
        enable_progress_bar=False,
        logger=False,
    )
    with pytest.raises(TrainingDiverged, match=r"NaN|nan"):
        trainer.fit(PoisonedClassifier(poison_at=7), MNISTDataModule(str(fake_data_dir), batch_size=16))
    saved = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert saved["global_step"] == 5  # the validation before the poison; step 10's weights were refused
    assert all(torch.isfinite(t).all() for t in saved["state_dict"].values())
