"""`FinalStepCheckpoint` scores a validation that falls on the final step like any other."""

import lightning as L
import torch

from rnn_lightning import FinalStepCheckpoint, MNISTDataModule, SequenceClassifier


class RisingScore(SequenceClassifier):
    """Each validation scores its own step, so the latest validation is always the best."""

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def on_validation_epoch_end(self) -> None:
        self.log("score", float(self.global_step))


def test_the_final_steps_validation_can_be_the_best(tmp_path, fake_data_dir):
    checkpoint = FinalStepCheckpoint(
        dirpath=tmp_path, monitor="score", mode="max", save_last=True, filename="best-{step}"
    )
    trainer = L.Trainer(
        default_root_dir=tmp_path,
        accelerator="cpu",
        max_steps=8,
        val_check_interval=4,
        check_val_every_n_epoch=None,  # as configs/speedrun.yaml: the last validation on the last step
        limit_val_batches=1,
        callbacks=[checkpoint],
        enable_progress_bar=False,
        logger=False,
    )
    trainer.fit(RisingScore(hidden_size=8), MNISTDataModule(str(fake_data_dir), batch_size=16))
    assert sorted(path.name for path in tmp_path.glob("*.ckpt")) == ["best-step=8.ckpt", "last.ckpt"]
    assert checkpoint.best_model_score == 8
    assert torch.load(tmp_path / "last.ckpt", weights_only=False)["global_step"] == 8
