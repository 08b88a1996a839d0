"""Workaround: the Trainer's default profiler here, none at no cost (see `NullProfiler`).

It also overrides `Profiler.__del__`, which tears down files and fails on the uninitialised copies that
jsonargparse makes of the CLI's `lazy_instance` default. Upstream: no issue found (searched Lightning's
and jsonargparse's trackers for `lazy_instance` with a profiler); checked on Lightning 2.6.6 and
jsonargparse 4.53. Test: tests/workarounds/test_workarounds.py checks that `Profiler.__del__` still fails
on such a copy; when it does not, the override can go.
"""

import contextlib
from contextlib import AbstractContextManager

from lightning.pytorch.profilers import PassThroughProfiler
from typing_extensions import override

_NOTHING = contextlib.nullcontext()


class NullProfiler(PassThroughProfiler):
    """Lightning's default when no profiler is asked for, made free.

    Lightning wraps each hook call, dozens a training step, in `profiler.profile(name)`; its default
    `PassThroughProfiler` builds a generator-based context manager every time, a few percent of a step of
    this small model. This one returns one shared `nullcontext`. `--trainer.profiler simple` (or any
    other) still replaces it.
    """

    @override
    def profile(self, action_name: str) -> AbstractContextManager:
        return _NOTHING

    @override
    def __del__(self) -> None:
        # Nothing to close. `Profiler.__del__` would tear down files, and fails on the uninitialised
        # copies that jsonargparse makes of the CLI's lazy default.
        pass
