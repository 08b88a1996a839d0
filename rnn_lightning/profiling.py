"""Kept so that run configs saved before 0.2 (`trainer.profiler: rnn_lightning.profiling.NullProfiler`)
still load; the class lives in `rnn_lightning.workarounds.null_profiler`."""

from rnn_lightning.workarounds.null_profiler import NullProfiler

__all__ = ["NullProfiler"]
