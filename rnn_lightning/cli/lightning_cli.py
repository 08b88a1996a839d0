"""The command line: LightningCLI with `fit`, `validate`, `test` and `predict`, plus the tutorial's report."""

import argparse
import os
import sys
from pathlib import Path

import lightning as L
import torch
from jsonargparse import DefaultHelpFormatter, lazy_instance
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from typing_extensions import override

from rnn_lightning import __version__
from rnn_lightning.checkpointing.failed_run import watch_new_run_folder
from rnn_lightning.checkpointing.files import (
    CHECKPOINT_OPTION_HELP,
    check_model_shape,
    checkpoint_path,
    load_checkpoint,
)
from rnn_lightning.cli.renamed_paths import PARSER_MODE as RENAMING_PARSER_MODE
from rnn_lightning.cli.verbosity import verbose
from rnn_lightning.data.datamodule import MNISTDataModule
from rnn_lightning.data.labelled_folder import check_folder_exists
from rnn_lightning.errors import UserInputError
from rnn_lightning.export.command import HELP as EXPORT_HELP
from rnn_lightning.export.command import build_parser as build_export_parser
from rnn_lightning.garbage_collector import resume_collection
from rnn_lightning.model.classifier import SequenceClassifier
from rnn_lightning.program import DEFAULTS, program_name
from rnn_lightning.report.accuracy_lines import ImagesMeasured, folder_line, stage_report
from rnn_lightning.report.evaluation_report import EvaluationReport
from rnn_lightning.report.fine_tuning_start import FineTuningStart
from rnn_lightning.report.predictions import PredictionReport
from rnn_lightning.serving.command import HELP as SERVE_HELP
from rnn_lightning.serving.command import build_parser as build_serve_parser
from rnn_lightning.training.cpu_precision import bf16_advice
from rnn_lightning.training.interrupt import CheckpointOnInterrupt
from rnn_lightning.training.precision_choice import (
    AUTO,
    auto_precision,
    auto_precision_line,
    refuse_whole_model_precision,
)
from rnn_lightning.training.schedules import (
    CosineAnnealingLR,
    fit_cosine_to_the_run,
    fit_one_cycle_to_the_run,
)
from rnn_lightning.training.trainer import Trainer
from rnn_lightning.workarounds.null_profiler import NullProfiler
from rnn_lightning.workarounds.nvml_cuda_check import drop_nvml_check_without_gpus
from rnn_lightning.workarounds.option_suggestions import SuggestingOptions
from rnn_lightning.workarounds.subcommand_help import DescribedSubcommands

DESCRIPTION = """\
Train, test and use an LSTM that reads MNIST images row by row: the TensorFlow
tutorial's model, rebuilt on PyTorch Lightning.

Start with:
  %(prog)s fit --config configs/default.yaml --trainer.max_steps 1000   (a first try)
  %(prog)s fit --config configs/default.yaml   (the tutorial's 10,000 steps)

  %(prog)s --verbose SUBCOMMAND ...   (or RNN_LIGHTNING_VERBOSE=1)
      keeps Lightning's own lines: devices, seed, model summary, checkpoint restored,
      table of metrics"""


class DescriptionAsWritten(argparse.RawDescriptionHelpFormatter, DefaultHelpFormatter):
    """jsonargparse's help, with the description's lines kept: its commands stay one line each."""


SUBCOMMANDS = {
    "fit": "Train a model (then test it, with the report pictures, unless --test_after_fit false).",
    "validate": "Measure a checkpoint on the 5,000 validation images.",
    "test": "Measure a checkpoint on the 10,000 test images; writes the report pictures.",
    "predict": "Classify image files (data.predict_path) or the test set with a checkpoint, in fp32.",
}

EVALUATING = ("validate", "test", "predict")
MAX_SEED = 2**32 - 1  # numpy's, which `seed_everything` seeds too
_TABLE = "Print Lightning's table of metrics too (default: only with --verbose before the subcommand)."
CHECKPOINT_HELP = {
    "fit": {"ckpt_path": f"Resume from {CHECKPOINT_OPTION_HELP} (resumed exactly: data order, step, state)."},
    **{
        name: {
            "ckpt_path": f"The weights to use (required): {CHECKPOINT_OPTION_HELP}.",
            **({"verbose": _TABLE} if name != "predict" else {}),
        }
        for name in EVALUATING
    },
}


class SuggestingLightningArgumentParser(SuggestingOptions, LightningArgumentParser):
    """LightningCLI's parser, whose unrecognized options say which one was probably meant."""


@rank_zero_only
def print_once(line: str, file=None) -> None:
    """Prints on rank zero only, so that each report line appears once under DDP."""
    print(line, file=file, flush=True)


class RNNLightningCLI(DescribedSubcommands, LightningCLI):
    """Links the model's input size and class count to the data, checks checkpoints before use, stops
    cleanly on Ctrl-C, tests the final weights after fit and reports predictions."""

    SUBCOMMAND_HELP = SUBCOMMANDS
    ARGUMENT_HELP = CHECKPOINT_HELP

    @override
    def argument_defaults(self) -> dict[str, dict[str, object]]:
        # Lightning's table of test or validation metrics repeats the line `report_stage` prints.
        return {name: {"verbose": verbose()} for name in ("validate", "test")}

    @override
    def extra_subcommands(self) -> dict:
        # `serve` and `export` run outside LightningCLI (`cli/main.py` hands them their own parsers);
        # listed for --help.
        return {
            "serve": (build_serve_parser(f"{program_name()} serve"), SERVE_HELP),
            "export": (build_export_parser(f"{program_name()} export"), EXPORT_HELP),
        }

    @override
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.input_size", "model.input_size", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.set_defaults({"trainer.profiler": lazy_instance(NullProfiler)})
        # The summary's 16 lines (its FLOPs column all zeros on a recurrent model) only with --verbose.
        parser.set_defaults({"trainer.enable_model_summary": verbose()})
        parser.add_argument(
            "--test_after_fit", type=bool, default=True, help="Test the final weights when fit ends."
        )

    cosine_by_step = False  # a cosine schedule over a run bounded by steps alone (fit_cosine_to_the_run)

    @override
    def configure_optimizers(self, lightning_module, optimizer, lr_scheduler=None):
        # LightningCLI steps every scheduler once per epoch; a one-cycle schedule is defined over steps
        # (`total_steps`), so it is stepped after every optimizer step, as its documentation asks; so is a
        # cosine schedule whose T_max counts the steps of a run with no epoch count. (An instance method,
        # not LightningCLI's static one: LightningCLI calls it through `self` either way.)
        by_step = isinstance(lr_scheduler, torch.optim.lr_scheduler.OneCycleLR) or (
            self.cosine_by_step and isinstance(lr_scheduler, CosineAnnealingLR)
        )
        if by_step:
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler, "interval": "step"}}
        return LightningCLI.configure_optimizers(lightning_module, optimizer, lr_scheduler)

    @override
    def instantiate_classes(self) -> None:
        # A value that a class refuses when built (torch's "Invalid learning rate: -1.0", a callback's
        # interval of 0) is bad input: one line, as jsonargparse's own refusals are.
        try:
            super().instantiate_classes()
        except ValueError as error:
            raise UserInputError(f"a configured value was refused: {error}") from None

    @override
    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        trainer = config.trainer
        # The config sets a progress bar of its own (to redraw it less often); let
        # `--trainer.enable_progress_bar false` still turn it off instead of failing on the conflict.
        if trainer.enable_progress_bar is False and isinstance(trainer.callbacks, list):
            trainer.callbacks = [c for c in trainer.callbacks if not is_progress_bar(c)]
        if self.subcommand == "fit" and config.get("optimizer") is None:
            # The model leaves its optimizer to the config (classifier.py); without one Lightning would
            # ask the user to write a `configure_optimizers` method.
            raise UserInputError(
                "fit needs an optimizer and none was given: train with a config (--config "
                "configs/default.yaml is the tutorial's, SGD at 0.001) or name one (--optimizer "
                "torch.optim.SGD --optimizer.lr 0.001)"
            )
        if self.subcommand == "fit":  # folders read after training, checked before it
            for option in ("val_path", "test_path"):
                if (folder := config.data.get(option)) is not None:
                    check_folder_exists(folder, f"data.{option}")
        refuse_bad_trainer_values(trainer)
        fit_one_cycle_to_the_run(config)
        self.cosine_by_step = fit_cosine_to_the_run(config)
        if self.subcommand == "predict":
            # One question, one answer: predict in fp32, as `serve` does, whatever precision the run was
            # trained at (mixed precision keeps fp32 weights; the checkpoint holds them).
            trainer.precision = "32-true"
            # Predicting a few images needs one process; several would each hold a share of the outputs.
            if trainer.devices == "auto":
                trainer.devices = 1
        if self.subcommand in ("fit", "validate", "test"):  # predict runs in fp32 (above)
            refuse_whole_model_precision(trainer.precision)
        if trainer.precision == AUTO:
            # Resolved here, not in the Trainer, so that the run's config.yaml (SaveConfigCallback saves
            # this namespace) records the precision used: rerunning it repeats the run.
            trainer.precision, why = auto_precision(trainer.accelerator)
            print_once(f"{program_name()}: {auto_precision_line(trainer.precision, why)}", file=sys.stderr)

    @override
    def parse_arguments(self, parser: LightningArgumentParser, args) -> None:
        super().parse_arguments(parser, args)
        # LightningCLI reads the checkpoint next to adopt its model hyper-parameters; check it first so
        # that a missing or unreadable file is one clear line, not a traceback from torch.load.
        subcommand = self.config.get("subcommand")
        seed = (self.config[subcommand] if subcommand else self.config).get("seed_everything")
        if not isinstance(seed, bool) and isinstance(seed, int) and not 0 <= seed <= MAX_SEED:
            # checked before LightningCLI seeds, whose numpy refusal would be a traceback
            seeds = f"0 to {MAX_SEED}, or true (a random one)"
            raise UserInputError(f"--seed_everything {seed}: a seed is {seeds}")
        path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if subcommand in EVALUATING and path is None:  # LightningCLI would measure a freshly built model
            raise UserInputError(
                f"{subcommand} needs --ckpt_path: a checkpoint file, or 'last' (the newest run's "
                "checkpoints/last.ckpt); without one it would use an untrained model"
            )
        self.checked_checkpoint = (path, load_checkpoint(Path(path))) if path not in (None, "last") else None
        if self.checked_checkpoint and subcommand in EVALUATING:
            self.config = adopt_reading(parser, self.config, subcommand, self.checked_checkpoint[1])

    def before_fit(self) -> None:
        on_cpu = isinstance(self.trainer.accelerator, CPUAccelerator)
        if advice := bf16_advice(self.trainer.precision, on_cpu):
            print_once(f"{program_name()}: {advice}", file=sys.stderr)
        self.prepare_run("fit", CheckpointOnInterrupt(), EvaluationReport(), FineTuningStart())

    def before_validate(self) -> None:
        self.prepare_run("validate")

    def before_test(self) -> None:
        self.prepare_run("test", EvaluationReport())

    def before_predict(self) -> None:
        self.prepare_run("predict", PredictionReport())

    def prepare_run(self, subcommand: str, *callbacks: L.Callback) -> None:
        """Resolves `--ckpt_path last`, checks the checkpoint fits the model, adds the subcommand's own
        callbacks, and ends start-up."""
        watch_new_run_folder(self.trainer)  # removed if the command fails before writing a result
        arguments = self.config_init[subcommand]
        if arguments.get("ckpt_path") == "last":
            arguments["ckpt_path"] = str(checkpoint_path("last", self.trainer))
            # the run's config.yaml (SaveConfigCallback saves this namespace) names the file: rerunning
            # it repeats the run after newer runs too
            self.config[subcommand]["ckpt_path"] = arguments["ckpt_path"]
            if subcommand != "fit":  # a resumed fit says it in Lightning's "Restored all states" line
                print_once(f"{program_name()}: --ckpt_path last is {arguments['ckpt_path']}", file=sys.stderr)
        # --model.init_from last: the same `last`, recorded the same way
        if subcommand == "fit" and getattr(self.model, "init_from", None) == "last":
            self.model.init_from = str(checkpoint_path("last", self.trainer, "--model.init_from"))
            self.config.fit.model.init_from = self.model.init_from
        if (path := arguments.get("ckpt_path")) is not None:
            checked = self.checked_checkpoint  # read once in `parse_arguments`, unless `last` was resolved
            checkpoint = checked[1] if checked and checked[0] == path else load_checkpoint(Path(path))
            check_model_shape(Path(path), checkpoint["state_dict"], self.model)
        self.images_measured = ImagesMeasured()
        self.trainer.callbacks.extend([*callbacks, self.images_measured])
        drop_nvml_check_without_gpus()  # a cheaper CUDA check at every optimizer step (workarounds/)
        resume_collection()  # start-up is over: what it built is frozen (garbage_collector.py)

    @override
    def after_fit(self) -> None:
        if self.trainer.interrupted:  # `cli/main.py` says how to resume
            return
        if self.config.fit.get("test_after_fit", True):
            self.trainer.test(self.model, datamodule=self.datamodule, verbose=False)
            self.report_stage("test")
            test_held_out_folder(self.trainer, self.model, self.datamodule)
        self.say_where_the_files_are()

    def after_validate(self) -> None:
        self.report_stage("validate")
        self.say_where_the_files_are()

    def after_test(self) -> None:
        self.report_stage("test")
        self.say_where_the_files_are()

    def after_predict(self) -> None:
        self.say_where_the_files_are("predictions.csv")

    def say_where_the_files_are(self, file: str = "") -> None:
        """One line on stderr naming the run's folder, or `file` in it. `trainer.log_dir` broadcasts, so
        every rank asks and rank zero prints; without a logger (`fast_dev_run`) there is no folder."""
        log_dir = self.trainer.log_dir
        where = None if log_dir is None else Path(os.path.normpath(log_dir)) / file
        if where is None or not where.exists():
            return
        if file:
            print_once(f"{program_name()}: the predictions are also in {where}", file=sys.stderr)
        else:
            guide = 'README, "What `fit` prints and writes"'
            print_once(f"{program_name()}: this run's files are in {where}{os.sep} ({guide})", sys.stderr)

    def report_stage(self, stage: str) -> None:
        """The tutorial's kind of line on stdout for the test or validation just run."""
        for line in stage_report(stage, self.trainer, self.model, self.datamodule, self.images_measured):
            print_once(line)


def refuse_bad_trainer_values(trainer) -> None:
    """Trainer settings that Lightning takes and then fails on mid-run with a traceback (a division by a
    zero interval) or silently misuses (a negative clipping norm flips the gradients' sign)."""
    interval = trainer.get("val_check_interval")
    if isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval <= 0:
        raise UserInputError(
            f"--trainer.val_check_interval {interval}: a number of steps (1 or more) or a share of an epoch "
            "(over 0, at most 1)"
        )
    clip = trainer.get("gradient_clip_val")
    if isinstance(clip, (int, float)) and clip < 0:
        raise UserInputError(f"--trainer.gradient_clip_val {clip}: must not be negative (0 or null: off)")


def test_held_out_folder(trainer: L.Trainer, model: SequenceClassifier, datamodule: MNISTDataModule) -> None:
    """After MNIST's test: the held-out part of `data.train_folder`, its report in `folder_test/`."""
    folder = datamodule.folders.get("holdout")
    if folder is None or len(folder) == 0:
        return
    with datamodule.testing_on("holdout"):
        results = trainer.test(model, datamodule=datamodule, verbose=False)
    name = datamodule.hparams.train_folder
    print_once(folder_line(name, results[0]["test/acc"], len(folder)))


READING_HPARAMS = ("dataset", "sequence", "permutation_seed")


def adopt_reading(parser: LightningArgumentParser, config, subcommand: str, checkpoint: dict):
    """The checkpoint's way of reading images (data set, sequence, pixel order), as LightningCLI adopts
    its model hyper-parameters (it reads `hyper_parameters` only, not the data module's): so that
    `predict --ckpt_path P --data.predict_path ...` needs no `--config` for a `pixels` or Fashion model."""
    saved = checkpoint.get("datamodule_hyper_parameters") or {}
    reading = {key: saved[key] for key in READING_HPARAMS if key in saved}
    if not reading:
        return config
    given = config[subcommand].get("data") or {}
    differs = [key for key, value in reading.items() if key in given and given[key] != value]
    if differs:  # the config (or its defaults) named another way of reading: the checkpoint's wins, said
        used = ", ".join(f"{key} {reading[key]!r}" for key in differs)
        print(f"Reading images as the checkpoint was trained: {used}", file=sys.stderr, flush=True)
    return parser.parse_object({subcommand: {"data": reading}}, config)


def is_progress_bar(callback_config: object) -> bool:
    """Whether a callback entry of the config names a progress bar class."""
    return str(getattr(callback_config, "class_path", "")).endswith("ProgressBar")


def build_cli(args: list[str] | None = None, run: bool = True) -> RNNLightningCLI:
    """The CLI as `python -m rnn_lightning` runs it; `args` replaces `sys.argv[1:]` (tests use it).
    With `run=False` (no subcommand: the benchmarks build a fit that way) the one parser reads the
    shared defaults too."""
    # Every parser reads its config files through the table of renamed class paths (renamed_paths.py).
    defaults = {"default_config_files": [str(DEFAULTS)], "parser_mode": RENAMING_PARSER_MODE}
    return RNNLightningCLI(
        SequenceClassifier,
        MNISTDataModule,
        args=args,
        run=run,
        parser_class=SuggestingLightningArgumentParser,
        trainer_class=Trainer,  # `trainer.precision` also takes `auto` (training/trainer.py)
        save_config_kwargs={"overwrite": False},
        parser_kwargs={
            "exit_on_error": False,
            "allow_abbrev": False,  # `--trainer.max_step` is a typo to refuse, not a run of `max_steps`
            "prog": program_name(),
            "description": DESCRIPTION,
            "formatter_class": DescriptionAsWritten,
            "version": __version__,  # `--version` prints "PROG 0.2.0"
            "parser_mode": RENAMING_PARSER_MODE,
            **({} if run else defaults),
            # A short usage line: argparse's default lists all ~150 options, some 76 lines before the
            # subcommand's description; `--help` lists each option below it anyway.
            **{
                name: {"description": text, "allow_abbrev": False, "usage": "%(prog)s [options]", **defaults}
                for name, text in SUBCOMMANDS.items()
            },
        },
    )
