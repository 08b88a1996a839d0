"""Workaround: clip gradients for a fused optimizer under bf16 mixed precision.

Lightning's `MixedPrecision.clip_gradients` refuses any optimizer that unscales its own gradients (a
fused one), a rule for fp16's gradient scaler; bf16 has no scaler, its gradients are already true, so
they are clipped here as in full precision by the base `Precision.clip_gradients`.

Upstream: https://github.com/Lightning-AI/pytorch-lightning/issues/21435 (open; the rule came with
https://github.com/Lightning-AI/pytorch-lightning/pull/15555). Checked on Lightning 2.6.6.
Test: tests/workarounds/test_workarounds.py checks that Lightning still refuses; when it clips, this can go.
"""

from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.utilities import GradClipAlgorithmType
from torch.optim import Optimizer


def clip_bf16_gradients(
    plugin: Precision, optimizer: Optimizer, value: float | None, algorithm: str | None
) -> bool:
    """Clips as full precision does where Lightning would refuse needlessly (mixed precision without a
    gradient scaler); returns False, doing nothing, everywhere else."""
    if not value or not isinstance(plugin, MixedPrecision) or plugin.scaler is not None:
        return False
    Precision.clip_gradients(plugin, optimizer, value, GradClipAlgorithmType(algorithm or "norm"))
    return True
