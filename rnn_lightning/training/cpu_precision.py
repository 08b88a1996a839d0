"""What bf16 is on this CPU: fast where oneDNN runs the LSTM's bf16 kernels on bf16 units (AMX, AVX-512
BF16), slow where it runs them without (AVX-512 alone: it converts in software), impossible where it has
no such kernel (AVX2 only, AVX2-VNNI-2's backward: workarounds/onednn_lstm_autocast.py then runs the LSTM
in fp32). Decided from what oneDNN does here (a probe), the units named from `torch.cpu.get_capabilities()`.
A bf16 `fit` on a CPU where bf16 does not pay says so in one line on stderr."""

from collections.abc import Mapping
from typing import Literal

import torch

from rnn_lightning.workarounds.onednn_lstm_autocast import onednn_runs_lstm_in

BF16_UNITS = {"amx_bf16": "AMX", "avx512_bf16": "AVX-512 BF16"}  # get_capabilities()'s names on x86
CpuBf16 = Literal["fast", "slow", "impossible", "unjudged"]


def bf16_unit(capabilities: Mapping) -> str | None:
    """The bf16 units oneDNN computes on here, by name (AMX before AVX-512 BF16), or None."""
    return next((name for flag, name in BF16_UNITS.items() if capabilities.get(flag)), None)


def cpu_bf16(capabilities: Mapping | None = None, lstm_runs: bool | None = None) -> CpuBf16:
    """What a bf16 LSTM is on this CPU; `capabilities` and `lstm_runs` (the probe's answer) are asked of
    PyTorch unless given. Off x86 it is not judged: no measurement of bf16 there."""
    capabilities = torch.cpu.get_capabilities() if capabilities is None else capabilities
    if capabilities.get("architecture") != "x86_64":
        return "unjudged"
    if not (onednn_runs_lstm_in(torch.bfloat16) if lstm_runs is None else lstm_runs):
        return "impossible"
    return "fast" if bf16_unit(capabilities) else "slow"


def bf16_advice(
    precision: object, on_cpu: bool, capabilities: Mapping | None = None, lstm_runs: bool | None = None
) -> str | None:
    """The line for a bf16 run on a CPU where bf16 does not pay (how the LSTM computes there), else None."""
    if not on_cpu or not str(precision).startswith("bf16"):
        return None
    kind = cpu_bf16(capabilities, lstm_runs)
    if kind == "impossible":
        return (
            f"precision {precision}: oneDNN on this CPU cannot train the LSTM in bf16, so the LSTM "
            "computes in fp32 with autocast off around it, the rest in bf16; "
            "--trainer.precision auto picks 32-true here"
        )
    if kind == "slow":
        return (
            f"precision {precision} on a CPU with neither AVX-512 BF16 nor AMX: oneDNN computes the LSTM's "
            "bf16 without bf16 units, slower than fp32; --trainer.precision 32-true is faster here"
        )
    return None
