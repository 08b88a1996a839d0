"""`--verbose` before the subcommand (or RNN_LIGHTNING_VERBOSE=1): Lightning's own lines, as Lightning prints
them. Without it a command's stderr holds the project's status lines, the bar, warnings and errors only
(`library_noise.py` says which lines are dropped)."""

import os

FLAG = "--verbose"
VARIABLE = "RNN_LIGHTNING_VERBOSE"
"""Set by `--verbose`, so that the processes a command starts (DDP's ranks, `serve`'s workers) see it too."""


def take_verbose_flag(argv: list[str]) -> list[str]:
    """`argv` less a leading `--verbose`, which sets `RNN_LIGHTNING_VERBOSE=1`. (After the subcommand,
    `test --verbose` and `validate --verbose` are Lightning's own switch for its table of metrics.)"""
    if argv[:1] != [FLAG]:
        return argv
    os.environ[VARIABLE] = "1"
    return argv[1:]


def verbose() -> bool:
    """Whether Lightning's own lines are wanted: `--verbose`, or RNN_LIGHTNING_VERBOSE set to anything
    but empty or 0."""
    return os.environ.get(VARIABLE, "") not in ("", "0")
