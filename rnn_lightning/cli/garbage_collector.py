"""The garbage collector during start-up: paused while a command imports PyTorch and Lightning and builds
its objects, then told to leave what start-up built alone.

Importing them and building the run leaves hundreds of thousands of objects that live as long as the
process; the collector's full collections walk all of them, again and again as they pile up, before the
first step (docs/time_to_accuracy.md has the cost). Frozen, they are never walked again; what the run
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
