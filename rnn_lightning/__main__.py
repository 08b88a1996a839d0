"""`python -m rnn_lightning` and the `rnn-lightning` console script."""

import sys

from jsonargparse import ArgumentError
from lightning.pytorch.utilities.exceptions import SIGTERMException

from rnn_lightning.cli import build_cli, program_name
from rnn_lightning.errors import RnnLightningError


def one_line(message: str) -> str:
    """jsonargparse explains a bad value over several indented lines; the command line shows one."""
    return " ".join(message.split())


def main(args: list[str] | None = None) -> int:
    """Runs the CLI. Bad input ends with one line on stderr and exit status 2; a run stopped by Ctrl-C or
    SIGTERM (its `last.ckpt` saved) with 130."""
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


if __name__ == "__main__":
    sys.exit(main())
