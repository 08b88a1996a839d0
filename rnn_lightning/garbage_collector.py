"""The garbage collector through start-up, for every process of the command: what start-up builds lives as
long as the process, and is frozen, out of the collector's sight for good.

Importing PyTorch and Lightning and building the run leaves hundreds of thousands of objects that live as
long as the process; the collector's full collections walk all of them, again and again as they pile up,
before a fit's first step (docs/time_to_accuracy.md has the cost), and stall a server's requests under
load (docs/serving.md). Frozen, they are never walked again; what comes after is collected as usual."""

import gc


def pause_collection() -> None:
    """At the very start of a command, before its imports."""
    gc.disable()


def resume_collection() -> None:
    """Once the command has built what it runs: if start-up paused the collector, freeze everything alive
    now and resume collecting what comes after."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def freeze_server_startup() -> None:
    """Once a server process has loaded its model and started its batcher (uvicorn starts each process
    afresh, the collector running): free start-up's garbage, then freeze what is left and collect on."""
    gc.collect()
    gc.freeze()
    gc.enable()
