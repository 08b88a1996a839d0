"""Lightning's Trainer with one more value for `precision`: `auto`, this machine's fastest precision for
the LSTM (precision_choice.py). The CLI resolves it before the Trainer is built, says so on stderr and
saves the resolved value in the run's config.yaml; this class gives the command line and configs the
type that accepts it (LightningCLI's `trainer_class`), and resolves it silently when built in Python."""

import inspect
from typing import Literal, Union

import lightning as L

from rnn_lightning.training.precision_choice import AUTO, auto_precision

LIGHTNING_PRECISION = inspect.signature(L.Trainer.__init__).parameters["precision"].annotation
PrecisionOrAuto = Union[Literal["auto"], LIGHTNING_PRECISION]  # noqa: UP007 (a type built at run time)


class Trainer(L.Trainer):
    """Lightning's Trainer; every other argument is Lightning's own.

    Args:
        precision: Lightning's precision (32-true, bf16-mixed, ...; default 32-true), or auto: bf16-mixed
            on a CUDA GPU with bf16 and on a CPU whose oneDNN runs the LSTM's bf16 kernels on AMX or
            AVX-512 BF16, 32-true elsewhere; one line on stderr says which and why.
    """

    def __init__(self, *, precision: PrecisionOrAuto = None, **kwargs) -> None:
        if precision == AUTO:
            precision = auto_precision(kwargs.get("accelerator", "auto"))[0]
        super().__init__(precision=precision, **kwargs)
