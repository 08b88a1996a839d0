"""Whether bf16 runs, and pays, on this CPU. With AMX or AVX-512 BF16, oneDNN runs the LSTM's bf16 kernel
on those units, faster than fp32. Where oneDNN has no bf16 LSTM kernel at all (AVX2 alone) bf16 would
crash the first step: oneDNN is kept out (`workarounds/onednn_bf16_lstm.py`) and the LSTM computes in
fp32 in PyTorch's own kernels. On an x86 CPU with AVX-512 but neither bf16 unit, oneDNN's bf16 kernel
runs but is slower than fp32 (benchmarks/step_profile.py, docs/time_to_accuracy.md). Either way a bf16
run says so in one line on stderr."""

from collections.abc import Callable, Mapping

import torch

from rnn_lightning.workarounds.onednn_bf16_lstm import keep_onednn_out_of_bf16_lstm

BF16_UNITS = ("avx512_bf16", "amx_bf16")  # torch.cpu.get_capabilities()'s names on x86


def lacks_bf16_units(capabilities: Mapping | None = None) -> bool:
    """True on an x86 CPU with neither AVX-512 BF16 nor AMX (other architectures are not judged)."""
    capabilities = torch.cpu.get_capabilities() if capabilities is None else capabilities
    return capabilities.get("architecture") == "x86_64" and not any(capabilities.get(u) for u in BF16_UNITS)


def prepare_bf16_on_cpu(
    precision: object,
    on_cpu: bool,
    capabilities: Mapping | None = None,
    keep_onednn_out: Callable[[], bool] = keep_onednn_out_of_bf16_lstm,
) -> str | None:
    """Before a bf16 run on a CPU: keeps oneDNN out of the LSTM where it cannot run it in bf16, and returns
    the line that says how the run computes where bf16 does not pay; None where it does, or not bf16."""
    if not on_cpu or not str(precision).startswith("bf16"):
        return None
    if keep_onednn_out():
        return (
            f"precision {precision}: this CPU's oneDNN has no bf16 LSTM kernel, so the LSTM computes in fp32 "
            "in PyTorch's own kernels (pytorch/pytorch#88136); --trainer.precision 32-true is faster here"
        )
    if lacks_bf16_units(capabilities):
        return (
            f"precision {precision} on a CPU with neither AVX-512 BF16 nor AMX runs the LSTM slower than "
            "fp32; --trainer.precision 32-true is faster here"
        )
    return None
