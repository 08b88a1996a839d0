"""The command's entry: `main` turns every user error into one line and exit status 2; `run` is what
`python -m rnn_lightning` and the `rnn-lightning` console script call."""

import os
import sys
import traceback
from typing import NoReturn

from rnn_lightning.cli.verbosity import take_verbose_flag, verbose
from rnn_lightning.garbage_collector import pause_collection
from rnn_lightning.program import program_name
from rnn_lightning.workarounds.quick_exit import exit_now


def one_line(message: str) -> str:
    """jsonargparse explains a bad value over several indented lines; the command line shows one."""
    return " ".join(message.split())


def main(args: list[str] | None = None) -> int:
    """Runs the CLI. Bad input ends with one line on stderr and exit status 2; a run stopped by Ctrl-C or
    SIGTERM (its `last.ckpt` saved) with 130. A leading `--verbose` keeps Lightning's own lines."""
    argv = take_verbose_flag(sys.argv[1:] if args is None else list(args))
    if args is None:  # LightningCLI reads sys.argv itself (and warns when given both): less --verbose
        sys.argv[1:] = argv
    if argv == ["--version"]:  # answered before PyTorch and Lightning are imported (seconds)
        from rnn_lightning import __version__

        print(f"{program_name()} {__version__}")
        return 0
    try:
        return _command(argv, None if args is None else argv)
    except ModuleNotFoundError as error:  # a Python without the project's requirements (no venv active)
        if (error.name or "").partition(".")[0] == "rnn_lightning":
            raise  # the project's own module: a bug, not the user's environment
        return refused(missing_requirement(error.name))


def missing_requirement(module: str | None) -> str:
    """The line for a command run by a Python that lacks one of the packages `pyproject.toml` lists."""
    return (
        f"this Python ({sys.executable}) has no module {module!r}, which rnn_lightning needs: activate "
        'the virtual environment it was installed in, or install it there (README, "Install and a first run")'
    )


def _command(argv: list[str], args: list[str] | None) -> int:
    """The subcommand `argv` names; bad input as one line (`refused`)."""
    from jsonargparse import ArgumentError  # imported here, after `run` has paused the collector

    from rnn_lightning.cli.library_noise import silence_library_noise
    from rnn_lightning.errors import RnnLightningError

    silence_library_noise(verbose())
    if not argv:  # jsonargparse's own line cuts the list of subcommands short ("serve, ...")
        from rnn_lightning.cli.lightning_cli import SUBCOMMANDS

        names = ", ".join([*SUBCOMMANDS, "serve", "export"])
        return refused(f"name a subcommand: {names}; {program_name()} --help says what each does")
    try:
        # serve and export are not Trainer subcommands: their own parsers (listed in --help), and no
        # Lightning to import (seconds of a server's start-up)
        if argv[:1] == ["serve"]:
            from rnn_lightning.serving.command import serve

            return serve(argv[1:], f"{program_name()} serve")
        if argv[:1] == ["export"]:
            from rnn_lightning.export.command import export

            return export(argv[1:], f"{program_name()} export")
        return trainer_command(args)
    except (RnnLightningError, ArgumentError) as error:
        return refused(error)


def refused(error: Exception | str) -> int:
    """A user's mistake: one line on stderr, exit status 2."""
    print(f"{program_name()}: error: {one_line(str(error))}", file=sys.stderr)
    return 2


def trainer_command(args: list[str] | None) -> int:
    """fit, validate, test or predict through LightningCLI (`args` None: sys.argv's)."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from rnn_lightning.checkpointing.failed_run import removed_if_the_command_fails
    from rnn_lightning.cli.lightning_cli import build_cli
    from rnn_lightning.training.progress_bar import logs_above_the_bar

    try:
        with logs_above_the_bar(), removed_if_the_command_fails():
            build_cli(args)
    except MisconfigurationException as error:  # Lightning's word for settings that contradict each other
        return refused(error)
    except ValueError as error:  # Lightning's own check of a setting against the data (val_check_interval)
        if not raised_by_lightning(error):
            raise
        return refused(error)
    except SIGTERMException as stop:
        by = getattr(stop, "stopped_by", "a signal")  # set by CheckpointOnInterrupt
        resume = "resume with the same command and --ckpt_path last"
        print(f"{program_name()}: stopped by {by}; {resume}", file=sys.stderr)
        return 130
    return 0


def raised_by_lightning(error: BaseException) -> bool:
    """Whether `error` was raised in Lightning's own code (its last frame there), where a ValueError is
    Lightning refusing a setting, as its MisconfigurationException is; one from PyTorch or from this
    project is a bug and keeps its traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and f"{os.sep}lightning{os.sep}" in frames[-1].filename


def run() -> NoReturn:
    """The `rnn-lightning` console script and `python -m rnn_lightning`: `main`, with the garbage
    collector paused through start-up (`rnn_lightning/garbage_collector.py`), then a quick exit
    (`workarounds/quick_exit.py`)."""
    pause_collection()
    exit_now(main())
