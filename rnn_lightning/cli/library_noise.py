"""Silences, one by one, the lines that Lightning and PyTorch print on every run but that say nothing
about it; every other warning still shows. (The fourth, "The dirpath has changed...", is not triggered:
see `FinalStepCheckpoint.load_state_dict`.)"""

import logging
import re
import warnings

LITLOGGER_TIP = "💡 Tip: For seamless cloud"
"""Lightning 2.6's advertisement for its cloud logging and model products, logged at every Trainer
start-up unless their logger is in use; Lightning has no option to turn it off."""


class DropLightningTips(logging.Filter):
    """Drops Lightning's product tips, and only them, from its rank-zero logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(LITLOGGER_TIP)


def silence_library_noise() -> None:
    """Installs the filters; each names its exact message, category and module."""
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
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, DropLightningTips) for f in logger.filters):
        logger.addFilter(DropLightningTips())
