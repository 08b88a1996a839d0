"""The command's entry: `main` turns every user error into one line and exit status 2; `run` is what
`python -m rnn_lightning` and the `rnn-lightning` console script call."""

import sys
from typing import NoReturn

from rnn_lightning.garbage_collector import pause_collection
from rnn_lightning.workarounds.quick_exit import exit_now


def one_line(message: str) -> str:
    """jsonargparse explains a bad value over several indented lines; the command line shows one."""
    return " ".join(message.split())


def main(args: list[str] | None = None) -> int:
    """Runs the CLI. Bad input ends with one line on stderr and exit status 2; a run stopped by Ctrl-C or
    SIGTERM (its `last.ckpt` saved) with 130."""
    from jsonargparse import ArgumentError  # imported here, after `run` has paused the collector
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from rnn_lightning.cli.library_noise import silence_library_noise
    from rnn_lightning.cli.lightning_cli import build_cli
    from rnn_lightning.errors import RnnLightningError
    from rnn_lightning.program import program_name

    silence_library_noise()
    argv = sys.argv[1:] if args is None else args
    try:
        if argv[:1] == ["serve"]:  # not a Trainer subcommand: its own parser, listed in --help
            from rnn_lightning.serving.command import serve

            return serve(argv[1:], f"{program_name()} serve")
        if argv[:1] == ["export"]:  # the same: its own parser, listed in --help
            from rnn_lightning.export.command import export

            return export(argv[1:], f"{program_name()} export")
        build_cli(args)
    except (RnnLightningError, ArgumentError) as error:
        print(f"{program_name()}: error: {one_line(str(error))}", file=sys.stderr)
        return 2
    except SIGTERMException:
        print(
            f"{program_name()}: stopped by a signal; resume with the same command and --ckpt_path last",
            file=sys.stderr,
        )
        return 130
    return 0


def run() -> NoReturn:
    """The `rnn-lightning` console script and `python -m rnn_lightning`: `main`, with the garbage
    collector paused through start-up (`rnn_lightning/garbage_collector.py`), then a quick exit
    (`workarounds/quick_exit.py`)."""
    pause_collection()
    exit_now(main())
