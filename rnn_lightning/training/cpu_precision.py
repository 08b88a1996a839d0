"""Whether bf16 pays on this CPU. With AMX or AVX-512 BF16, oneDNN runs the LSTM's bf16 kernel on those
units, faster than fp32; on an x86 CPU with neither it converts in software or leaves the LSTM to
PyTorch's own kernels, slower than fp32 (benchmarks/step_profile.py, docs/time_to_accuracy.md), so a
bf16 `fit` there says so in one line on stderr."""

from collections.abc import Mapping

import torch

BF16_UNITS = ("avx512_bf16", "amx_bf16")  # torch.cpu.get_capabilities()'s names on x86


def lacks_bf16_units(capabilities: Mapping | None = None) -> bool:
    """True on an x86 CPU with neither AVX-512 BF16 nor AMX (other architectures are not judged)."""
    capabilities = torch.cpu.get_capabilities() if capabilities is None else capabilities
    return capabilities.get("architecture") == "x86_64" and not any(capabilities.get(u) for u in BF16_UNITS)


def bf16_advice(precision: object, on_cpu: bool, capabilities: Mapping | None = None) -> str | None:
    """The line for a bf16 run on a CPU that computes bf16 slower than fp32, else None."""
    if not on_cpu or not str(precision).startswith("bf16") or not lacks_bf16_units(capabilities):
        return None
    return (
        f"precision {precision} on a CPU with neither AVX-512 BF16 nor AMX runs the LSTM slower than "
        "fp32; --trainer.precision 32-true is faster here"
    )
