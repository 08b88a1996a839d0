"""The LightningModule's own bookkeeping shortcuts keep `nn.Module` behaviour intact."""

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from rnn_lightning.checkpointing.final_step import FinalStepCheckpoint
from rnn_lightning.model.classifier import SequenceClassifier
from rnn_lightning.workarounds.null_profiler import NullProfiler


def test_hook_name_skips_module_checks_and_submodules_still_register(monkeypatch):
    """Setting the hook name passes by `nn.Module.__setattr__` (what `FastHookNameAttribute` is for);
    every other attribute still goes through it."""
    model = SequenceClassifier(hidden_size=8)
    through_module = []
    module_setattr = torch.nn.Module.__setattr__

    def counted(self, name, value):
        through_module.append(name)
        module_setattr(self, name, value)

    monkeypatch.setattr(torch.nn.Module, "__setattr__", counted)
    model._current_fx_name = "training_step"
    assert through_module == []
    assert model._current_fx_name == "training_step"
    assert "_current_fx_name" not in model._modules
    model.extra = torch.nn.Linear(2, 2)
    model.scale = torch.nn.Parameter(torch.ones(1))
    model.register_buffer("count", torch.zeros(1))
    assert "extra" in dict(model.named_children())
    assert {"scale", "extra.weight"} <= set(dict(model.named_parameters()))
    assert "count" in dict(model.named_buffers())
    assert {"extra", "scale"} <= set(through_module)


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


@pytest.mark.parametrize("precision", ["bf16-mixed", "32-true"])
def test_a_fused_optimizer_is_clipped_in_bf16_as_in_full_precision(precision):
    """Lightning's mixed-precision plugin would raise for a fused optimizer; bf16 has no scaler to mind."""
    trainer = L.Trainer(accelerator="cpu", precision=precision, logger=False, enable_checkpointing=False)
    module = SequenceClassifier(hidden_size=8, init="torch")
    module.trainer = trainer
    optimizer = torch.optim.AdamW(module.parameters(), fused=True)
    for parameter in module.parameters():
        parameter.grad = torch.full_like(parameter, 3.0)
    module.configure_gradient_clipping(optimizer, gradient_clip_val=0.5, gradient_clip_algorithm="norm")
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in module.parameters()]))
    assert norm == pytest.approx(0.5, rel=1e-4)
    module.configure_gradient_clipping(optimizer, gradient_clip_val=0.1, gradient_clip_algorithm="value")
    assert all(p.grad.abs().max() <= 0.1 for p in module.parameters())
