"""`python -m rnn_lightning` and the `rnn-lightning` console script."""

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

from rnn_lightning.heap import pause_collection


def one_line(message: str) -> str:
    """jsonargparse explains a bad value over several indented lines; the command line shows one."""
    return " ".join(message.split())


def main(args: list[str] | None = None) -> int:
    """Runs the CLI. Bad input ends with one line on stderr and exit status 2; a run stopped by Ctrl-C or
    SIGTERM (its `last.ckpt` saved) with 130."""
    from jsonargparse import ArgumentError  # imported here, after `run` has paused the collector
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from rnn_lightning.cli import build_cli, program_name
    from rnn_lightning.errors import RnnLightningError

    argv = sys.argv[1:] if args is None else args
    try:
        if argv[:1] == ["serve"]:  # not a Trainer subcommand: its own parser, listed in --help
            from rnn_lightning.serving.command import serve

            return serve(argv[1:], f"{program_name()} serve")
        build_cli(args)
    except (RnnLightningError, ArgumentError) as error:
        print(f"rnn-lightning: error: {one_line(str(error))}", file=sys.stderr)
        return 2
    except SIGTERMException:
        print(
            "rnn-lightning: stopped by a signal; resume with the same command and --ckpt_path last",
            file=sys.stderr,
        )
        return 130
    return 0


def exit_now(code: int) -> NoReturn:
    """Ends the process as `sys.exit(code)` would, less the interpreter's final teardown, which frees
    PyTorch's, Lightning's and matplotlib's modules one by one: 1.3 s of every command here (`fit` of
    the speedrun config measured with and without it), needed by nothing of ours. What a normal exit
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


def run() -> NoReturn:
    """The `rnn-lightning` console script and `python -m rnn_lightning`: `main`, with the garbage
    collector paused through start-up (`heap.py`), then a quick exit."""
    pause_collection()
    exit_now(main())


if __name__ == "__main__":
    run()
