"""Workaround: end a command without the interpreter's final teardown, which frees PyTorch's, Lightning's
and matplotlib's modules one by one (its cost a command: docs/time_to_accuracy.md).

Upstream: none. CPython has no public way to run the atexit handlers and then skip the teardown; this
calls its private `atexit._run_exitfuncs` (checked on CPython 3.11 and 3.12), then `os._exit`.
Tests: tests/workarounds/test_workarounds.py (exit code, atexit handlers, threads and output kept; every
file a real `fit`, `test` and `predict` write is complete). If `atexit._run_exitfuncs` goes, that test fails:
then drop this module and let `run` return normally.
"""

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Ends the process as `sys.exit(code)` would, less the interpreter's final teardown, which frees
    PyTorch's, Lightning's and matplotlib's modules one by one, needed by nothing of ours. What a normal exit
    does that matters still happens first: other threads are joined, atexit handlers run (logging,
    multiprocessing, TensorBoard), and the standard streams are flushed."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
