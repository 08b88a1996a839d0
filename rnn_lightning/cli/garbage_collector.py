"""The garbage collector during start-up: paused while a command imports PyTorch and Lightning and builds
its objects, then told to leave what start-up built alone.

Importing them and building the run leaves about 680,000 objects that live as long as the process
(`gc.get_freeze_count()` when a `fit` starts); the collector's full collections walk all of them, again
and again as they pile up: seven full collections, 0.8 s, before a `fit` of `configs/speedrun.yaml`
trained its first step (timed with `gc.callbacks`). Frozen, they are never walked again; what the run
itself creates is collected as usual."""

import gc


def pause_collection() -> None:
    """At the very start of a command, before its imports."""
    gc.disable()


def resume_collection() -> None:
    """Once the command has built what it runs: if start-up paused the collector, freeze everything alive
    now (moved out of the collector's sight for good) and resume collecting what comes after."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
