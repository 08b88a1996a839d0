"""workarounds/onednn_bf16_lstm.py: the probe asks this machine's oneDNN for real, and the workaround is
looked at again when PyTorch moves past the version it was checked on."""

import torch

from rnn_lightning.workarounds.onednn_bf16_lstm import onednn_runs_bf16_lstm

CHECKED_ON = (2, 14)  # pytorch/pytorch#88136 still open then


def test_the_probe_says_yes_where_the_cpu_has_bf16_units():
    capabilities = torch.cpu.get_capabilities()
    answer = onednn_runs_bf16_lstm()
    assert isinstance(answer, bool)
    if capabilities.get("amx_bf16") or capabilities.get("avx512_bf16"):
        assert answer, "oneDNN has bf16 LSTM kernels on AMX and AVX-512 BF16"


def test_a_real_bf16_lstm_step_runs_on_this_cpu_with_the_workaround():
    """On a CPU where oneDNN cannot run it (AVX2 alone), this crashed before the workaround."""
    from rnn_lightning.workarounds.onednn_bf16_lstm import keep_onednn_out_of_bf16_lstm

    was = torch.backends.mkldnn.enabled
    try:
        keep_onednn_out_of_bf16_lstm()
        lstm = torch.nn.LSTM(28, 16, batch_first=True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outputs, _ = lstm(torch.randn(4, 28, 28))
        outputs.float().sum().backward()
        assert lstm.weight_hh_l0.grad is not None and torch.isfinite(lstm.weight_hh_l0.grad).all()
    finally:
        torch.backends.mkldnn.enabled = was


def test_the_workaround_is_checked_again_on_a_newer_pytorch():
    version = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
    assert version <= CHECKED_ON, (
        "PyTorch is newer than the version rnn_lightning/workarounds/onednn_bf16_lstm.py was checked on: "
        "see whether pytorch/pytorch#88136 is fixed (a bf16 LSTM on an AVX2-only CPU), then drop it or "
        "raise CHECKED_ON"
    )
