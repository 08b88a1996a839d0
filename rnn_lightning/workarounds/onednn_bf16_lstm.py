"""Workaround: bf16 autocast on a CPU whose oneDNN has no bf16 LSTM kernel (AVX2 alone, such as an AMD
EPYC Zen 3) crashes the first step with "could not create a primitive descriptor for the LSTM forward
propagation primitive"; with oneDNN kept out, PyTorch's own LSTM runs instead, in fp32.

Upstream: https://github.com/pytorch/pytorch/issues/88136 (open: PyTorch sends bf16 LSTMs to oneDNN
where oneDNN cannot run them) and, for CPUs with a bf16 forward kernel but no backward (AVX2-VNNI-2),
https://github.com/pytorch/pytorch/issues/148861. Checked on PyTorch 2.14.1. The answer is asked of
oneDNN itself, by running a tiny LSTM forward and backward under bf16 autocast once, not guessed from
CPU flag names. Test: tests/test_onednn_bf16_lstm.py, which also fails once torch moves past the
version bound checked here, so that the probe is looked at again.
"""

import functools

import torch


@functools.cache
def onednn_runs_bf16_lstm() -> bool:
    """Whether this CPU's oneDNN runs an LSTM's forward and backward under bf16 autocast (asked once)."""
    if not torch.backends.mkldnn.is_available():
        return True  # no oneDNN: PyTorch's own kernels run the LSTM, nothing to keep out
    lstm = torch.nn.LSTM(4, 4, batch_first=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outputs, _ = lstm(torch.randn(2, 3, 4))
        outputs.float().sum().backward()
    except RuntimeError:
        return False
    return True


def keep_onednn_out_of_bf16_lstm() -> bool:
    """Turns oneDNN off for this process where it cannot run the bf16 LSTM (the model has no other layer
    oneDNN would speed up). Returns whether it did."""
    if onednn_runs_bf16_lstm():
        return False
    torch.backends.mkldnn.enabled = False
    return True
