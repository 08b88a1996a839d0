"""The LightningModule's shortcuts: its written-out step, hook bookkeeping and profiler change no result."""

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from rnn_lightning.checkpoint import FinalStepCheckpoint
from rnn_lightning.data import MNISTDataModule
from rnn_lightning.module import SequenceClassifier
from rnn_lightning.profiling import NullProfiler


def test_hook_name_skips_module_checks_and_submodules_still_register():
    model = SequenceClassifier(hidden_size=8)
    model._current_fx_name = "training_step"
    assert model._current_fx_name == "training_step"
    assert "_current_fx_name" not in model._modules
    model.extra = torch.nn.Linear(2, 2)
    model.scale = torch.nn.Parameter(torch.ones(1))
    model.register_buffer("count", torch.zeros(1))
    assert "extra" in dict(model.named_children())
    assert {"scale", "extra.weight"} <= set(dict(model.named_parameters()))
    assert "count" in dict(model.named_buffers())


def test_null_profiler_hands_out_one_reusable_context():
    profiler = NullProfiler()
    with profiler.profile("training_step") as first, profiler.profile("backward"):
        pass
    assert first is None
    assert profiler.profile("a") is profiler.profile("b")


def test_checkpoint_state_key_is_lightnings_own():
    callback = FinalStepCheckpoint(monitor="val/acc", mode="max")
    assert callback.state_key == ModelCheckpoint.state_key.fget(callback)
    assert callback.state_key.startswith("FinalStepCheckpoint{'monitor': 'val/acc'")


class AutomaticReference(SequenceClassifier):
    """The same model under Lightning's automatic optimization: what the written-out step must equal."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.automatic_optimization = True

    def training_step(self, batch, batch_idx):
        loss, _, _ = self._step(batch)
        return loss

    def on_before_optimizer_step(self, optimizer) -> None:
        pass  # the Trainer clips

    def on_train_epoch_end(self) -> None:
        pass  # the Trainer steps the scheduler


def adam_with_halving(model: L.LightningModule):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)]


def train(model_class, data_dir, root, model_args: dict, **trainer_args) -> tuple[L.Trainer, Any]:
    torch.manual_seed(0)
    model = model_class(hidden_size=16, **model_args)
    model.configure_optimizers = lambda: adam_with_halving(model)
    trainer = L.Trainer(
        max_epochs=2,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=root,
        **trainer_args,
    )
    trainer.fit(model, MNISTDataModule(data_dir=str(data_dir), batch_size=50))
    return trainer, model


def test_written_out_step_equals_automatic_optimization_bit_for_bit(fake_data_dir, tmp_path):
    clip = 0.05  # small enough to clip most steps
    trainer_a, automatic = train(AutomaticReference, fake_data_dir, tmp_path, {}, gradient_clip_val=clip)
    trainer_m, manual = train(SequenceClassifier, fake_data_dir, tmp_path, {"gradient_clip_val": clip})
    assert trainer_a.global_step == trainer_m.global_step == 12  # 2 epochs of 6 batches
    assert manual.optimizers().param_groups[0]["lr"] == automatic.optimizers().param_groups[0]["lr"] == 0.0025
    for (name, a), (_, m) in zip(automatic.state_dict().items(), manual.state_dict().items(), strict=True):
        assert torch.equal(a, m), name
