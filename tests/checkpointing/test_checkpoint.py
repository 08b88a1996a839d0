"""`FinalStepCheckpoint` scores a validation that falls on the final step like any other; checkpointing's
old class paths in configs saved before 0.2 still reach it, through cli/renamed_paths.py's table."""

from pathlib import Path

import lightning as L
import torch
import yaml

from rnn_lightning import FinalStepCheckpoint, MNISTDataModule, SequenceClassifier
from tests.conftest import CONFIGS


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


def test_a_run_config_naming_the_old_class_path_builds_the_checkpoint_callback(tmp_path, monkeypatch):
    from rnn_lightning.checkpointing import final_step
    from rnn_lightning.cli.lightning_cli import build_cli

    monkeypatch.chdir(tmp_path)
    old = "rnn_lightning.workarounds.final_step_checkpoint.FinalStepCheckpoint"
    saved = {"trainer": {"callbacks": [{"class_path": old, "init_args": {"save_last": True}}]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    cli = build_cli(["--config", str(CONFIGS / "default.yaml"), "--config", "config.yaml"], run=False)
    found = [c for c in cli.trainer.callbacks if isinstance(c, final_step.FinalStepCheckpoint)]
    assert len(found) == 1 and found[0].save_last is True
    assert FinalStepCheckpoint is final_step.FinalStepCheckpoint


def test_the_re_export_modules_are_gone_and_the_table_names_their_classes():
    """Issue 33: no module is kept at an old address; `cli/renamed_paths.py` maps the old class paths."""
    import importlib

    import rnn_lightning
    from rnn_lightning.cli.renamed_paths import RENAMED

    # By file, not by import: a checkout beside an editable install of another would find that one's.
    package = Path(rnn_lightning.__file__).parent
    for gone in ("profiling.py", "model/checkpoint_files.py", "workarounds/final_step_checkpoint.py"):
        assert not (package / gone).exists(), gone
    for today in RENAMED.values():
        module, name = today.rsplit(".", 1)
        assert hasattr(importlib.import_module(module), name), today


def test_a_fast_dev_run_writes_no_checkpoint(tmp_path, fake_data_dir, monkeypatch):
    """Lightning's smoke test saves nothing; the final-step saves of `FinalStepCheckpoint` (before: a
    `checkpoints/` folder with last.ckpt and a best file in the current folder) follow it."""
    from rnn_lightning.cli.main import main

    monkeypatch.chdir(tmp_path)
    args = ["fit", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(fake_data_dir)]
    assert main([*args, "--trainer.fast_dev_run", "true", "--trainer.enable_progress_bar", "false"]) == 0
    assert not list(tmp_path.rglob("*.ckpt")) and not (tmp_path / "checkpoints").exists()
