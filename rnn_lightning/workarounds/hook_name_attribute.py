"""Workaround: Lightning sets `LightningModule._current_fx_name` before and after every hook call, some
forty times a training step, through `nn.Module.__setattr__`, which checks parameters, modules and
buffers each time: on this small model, more than all of Lightning's other per-step bookkeeping
(docs/performance.md). The name is a plain string, so it is set past those checks.

Upstream: no issue found (searched Lightning's tracker for `_current_fx_name` and `__setattr__`);
checked on Lightning 2.6.6 and PyTorch 2.14.1. Test: tests/workarounds/test_workarounds.py checks that
Lightning still sets this attribute during a fit; when it stops, this mixin is dead code and can go.
"""

from typing import Any

HOOK_NAME = "_current_fx_name"


class FastHookNameAttribute:
    """A mixin for a `LightningModule` (listed before it): sets the hook name as a plain attribute."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == HOOK_NAME:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)
