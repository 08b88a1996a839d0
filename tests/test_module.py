"""The LightningModule's own bookkeeping shortcuts keep `nn.Module` behaviour intact."""

import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from rnn_lightning.checkpoint import FinalStepCheckpoint
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
