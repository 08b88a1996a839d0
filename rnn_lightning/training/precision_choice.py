"""`trainer.precision: auto`: this machine's fastest precision for the LSTM, resolved at start so that the
run's config.yaml records what was used. bf16-mixed on a CUDA GPU with bf16 and on a CPU whose oneDNN
runs the LSTM's bf16 kernels on bf16 units (AMX, AVX-512 BF16); 32-true everywhere else: on an x86 CPU
without those units bf16 is slower (or impossible: cpu_precision.py), and on ARM or Apple's GPU it is
not measured for this model, while fp32's accuracy is (docs/time_to_accuracy.md). Also the precisions
refused: those that convert the whole model (`WHOLE_MODEL`)."""

from collections.abc import Mapping

import torch

from rnn_lightning.errors import UserInputError
from rnn_lightning.training.cpu_precision import bf16_unit, cpu_bf16

AUTO = "auto"
CUDA_NAMES = ("auto", "gpu", "cuda")
# Lightning converts the whole LightningModule to these, its torchmetrics states with it (the report's
# counts in bf16 or fp16 lose images past 256 or 2,048), and the test's readings and figures expect the
# fp32 weights that mixed precision keeps: refused before the run, in one line.
WHOLE_MODEL = ("bf16-true", "16-true", "64-true", "64")


def refuse_whole_model_precision(precision: object) -> None:
    """A `UserInputError` for a precision that would convert the whole model (`WHOLE_MODEL`)."""
    if str(precision) in WHOLE_MODEL:
        raise UserInputError(
            f"--trainer.precision {precision} is not supported: it converts the whole model, its metrics "
            "included, to one dtype; use bf16-mixed (bf16 arithmetic on fp32 weights), 32-true, or auto "
            "(the machine's fastest)"
        )


def accelerator_name(accelerator: object) -> str:
    """The Trainer's `accelerator` as a lower-case name: as given, a config's class_path, or a class name."""
    if isinstance(accelerator, str):
        return accelerator.lower()
    return str(getattr(accelerator, "class_path", type(accelerator).__name__)).lower()


def runs_on_cuda(accelerator: object) -> bool:
    """Whether the Trainer's `accelerator` means a CUDA GPU here."""
    name = accelerator_name(accelerator)
    return torch.cuda.is_available() if name in CUDA_NAMES else "cuda" in name


def runs_on_mps(accelerator: object) -> bool:
    """Whether `accelerator` means Apple's GPU here (Lightning's `auto` picks it where CUDA is not)."""
    name = accelerator_name(accelerator)
    return (name in ("auto", "gpu") or "mps" in name) and torch.backends.mps.is_available()


def auto_precision(
    accelerator: object = "auto", capabilities: Mapping | None = None, lstm_runs: bool | None = None
) -> tuple[str, str]:
    """(precision, why) for a run on `accelerator`; the CPU's `capabilities` and the bf16 LSTM probe's
    answer `lstm_runs` are asked of PyTorch unless given."""
    if runs_on_cuda(accelerator):
        if torch.cuda.is_bf16_supported():
            return "bf16-mixed", "a CUDA GPU with bf16"
        return "32-true", "a CUDA GPU without bf16"
    if runs_on_mps(accelerator):
        return "32-true", "Apple's GPU (mps), where bf16 is not measured for this model"
    capabilities = torch.cpu.get_capabilities() if capabilities is None else capabilities
    kind = cpu_bf16(capabilities, lstm_runs)
    if kind == "fast":
        unit = bf16_unit(capabilities)
        return "bf16-mixed", f"oneDNN runs the LSTM's bf16 forward and backward on this CPU's {unit}"
    if kind == "slow":
        return "32-true", "this CPU has neither AMX nor AVX-512 BF16: its bf16 LSTM is slower than fp32"
    if kind == "impossible":
        return "32-true", "oneDNN on this CPU cannot train the LSTM in bf16"
    architecture = capabilities.get("architecture") or "non-x86"
    return "32-true", f"a {architecture} CPU, where bf16 is not measured for this model"


def auto_precision_line(precision: str, why: str) -> str:
    """The one stderr line saying what `auto` chose and why."""
    return f"precision auto: {precision} ({why})"
