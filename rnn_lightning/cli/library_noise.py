"""Silences, one by one, the lines that Lightning and PyTorch print on every run but that say nothing
about it; every other warning still shows. (The fourth, "The dirpath has changed...", is not triggered:
see `FinalStepCheckpoint.load_state_dict`.) Unless `--verbose` (`verbosity.py`), Lightning's start-up
lines go too: the devices, the seed, the mixed precision and the checkpoint being restored; its model
summary and its table of test metrics are off by the CLI's defaults instead (`lightning_cli.py`)."""

import logging
import re
import warnings

LITLOGGER_TIP = "💡 Tip: For seamless cloud"
"""Lightning 2.6's advertisement for its cloud logging and model products, logged at every Trainer
start-up unless their logger is in use; Lightning has no option to turn it off."""


START_UP_LINES = {
    "lightning.pytorch.utilities.rank_zero": (
        "GPU available: ",  # "GPU available: False, used: False": the devices, whatever is chosen
        "TPU available: ",
        "HPU available: ",
        "Restoring states from the checkpoint path at ",  # test, validate, predict and a resumed fit
        "Loaded model weights from the checkpoint at ",  # test, validate, predict
        "Using bfloat16 Automatic Mixed Precision",  # the precision chosen: the run's config.yaml says it
        "Using 16bit Automatic Mixed Precision",
    ),
    "lightning.fabric.utilities.seed": ("Seed set to ",),  # LightningCLI calls seed_everything verbosely
    "lightning.pytorch.accelerators.cuda": ("LOCAL_RANK: ",),  # "LOCAL_RANK: 0 - CUDA_VISIBLE_DEVICES: [0]"
}
"""Lightning's logger name -> the starts of its info lines that `--verbose` brings back. A resumed fit's
"Restored all states from the checkpoint at ..." is kept: it says the resume happened."""


class DropMessages(logging.Filter):
    """Drops from one logger the records whose message starts with one of `starts`, and only them."""

    def __init__(self, starts: tuple[str, ...]) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.starts)


def drop_messages(logger_name: str, starts: tuple[str, ...]) -> None:
    """Installs one `DropMessages` filter on the logger (once, however often a command asks)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, DropMessages) and f.starts == starts for f in logger.filters):
        logger.addFilter(DropMessages(starts))


def silence_library_noise(verbose: bool = False) -> None:
    """Installs the filters; each names its exact message, category and module. `verbose` keeps
    Lightning's start-up lines."""
    # Lightning 2.6's pytree copy builds torch's `LeafSpec`, which torch 2.14 deprecates (the warning is
    # for Lightning's maintainers, nothing a user can change).
    warnings.filterwarnings(
        "ignore",
        message=re.escape("`isinstance(treespec, LeafSpec)` is deprecated"),
        category=FutureWarning,
        module=r"lightning\.pytorch\.utilities\._pytree",
    )
    # Under bf16-mixed the weights stay fp32, which is what the summary then counts: its size is right.
    warnings.filterwarnings(
        "ignore",
        message=r"Precision bf16-mixed is not supported by the model summary",
        category=UserWarning,
        module=r"lightning\.pytorch\.utilities\.model_summary",
    )
    drop_messages("lightning.pytorch.utilities.rank_zero", (LITLOGGER_TIP,))
    if not verbose:
        for logger_name, starts in START_UP_LINES.items():
            drop_messages(logger_name, starts)
