"""Workaround: an LSTM under CPU autocast (bf16, fp16) on a CPU whose oneDNN has no such LSTM kernel.

PyTorch hands a CPU LSTM's fp32 input to oneDNN, and CPU autocast then casts oneDNN's RNN layer
(`mkldnn_rnn_layer`) to bf16 whether or not this CPU's oneDNN can run it there: on an x86 CPU without
AVX-512 (AVX2 only: most cloud VMs, CI runners, older laptops) the first forward raises "could not
create a primitive descriptor for the LSTM forward propagation primitive"; on AVX2-VNNI-2 (the newest
Intel laptops) the forward runs and the backward raises. Where a tiny probe of that forward and
backward fails, the LSTM is run with autocast switched off around it (autocast's documented local
opt-out): it computes in fp32 with oneDNN's fp32 kernel, the same LSTM as in 32-true, and the rest of
the step (the head, the loss) stays under autocast.

Upstream: https://github.com/pytorch/pytorch/issues/88136 (open; its CPU half is this error) and
https://github.com/pytorch/pytorch/issues/148861 ("DNNL does not support bf16/f16 backward on the
platform with avx2_vnni_2", open). Checked on PyTorch 2.14.1. Test: tests/workarounds/test_workarounds.py
runs the plain LSTM under bf16 autocast with oneDNN capped at AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`, in a child
process); when that stops raising, this can go.
"""

import functools

import torch
from torch import Tensor, nn

PROBE_SHAPE = (2, 3, 4)  # (batch, steps, features): primitive creation is what fails, not the size


@functools.cache
def onednn_runs_lstm_in(dtype: torch.dtype) -> bool:
    """Whether a CPU LSTM's forward and backward run under CPU autocast to `dtype` on this machine (the
    answer is the CPU's, so it is asked once a process). The probe draws its weights from a forked RNG:
    it leaves the seeded stream a run's initialisation draws from as it was."""
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        lstm = nn.LSTM(PROBE_SHAPE[2], PROBE_SHAPE[2], batch_first=True)
        sequences = torch.rand(PROBE_SHAPE)
        try:
            with torch.autocast("cpu", dtype=dtype):
                outputs, _ = lstm(sequences)
            outputs.float().sum().backward()
        except RuntimeError:
            return False
    return True


def lstm_outside_autocast(rnn: nn.Module, sequences: Tensor) -> bool:
    """Whether `rnn` must run with autocast off: an LSTM on the CPU under an autocast whose dtype this
    CPU's oneDNN cannot run it in."""
    return (
        isinstance(rnn, nn.LSTM)
        and sequences.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
        and not onednn_runs_lstm_in(torch.get_autocast_dtype("cpu"))
    )


def run_recurrent(rnn: nn.Module, sequences: Tensor) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
    """`rnn(sequences)`, in fp32 with autocast off where this CPU's oneDNN has no LSTM kernel for
    autocast's dtype; as it is everywhere else."""
    if not lstm_outside_autocast(rnn, sequences):
        return rnn(sequences)
    with torch.autocast("cpu", enabled=False):
        return rnn(sequences.float())
