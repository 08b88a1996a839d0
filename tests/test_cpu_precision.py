"""bf16 on a CPU: where oneDNN has no bf16 LSTM kernel, oneDNN is kept out and the run goes on in fp32
with one line on stderr; where bf16 runs but has no units to pay, one line says fp32 is faster; nothing
where bf16 pays (AMX, AVX-512 BF16), on a GPU, in fp32 or off x86."""

import pytest
import torch

from rnn_lightning.cli.main import main
from rnn_lightning.training.cpu_precision import prepare_bf16_on_cpu
from rnn_lightning.workarounds import onednn_bf16_lstm
from tests.conftest import FEW_STEPS, fit_args

WITHOUT = {"architecture": "x86_64", "avx512_f": True, "avx512_bf16": False, "amx_bf16": False}
AVX2_ONLY = {**WITHOUT, "avx2": True, "avx512_f": False}


@pytest.mark.parametrize(
    ("precision", "on_cpu", "units", "onednn_runs", "said"),
    [
        ("bf16-mixed", True, {}, True, "slower than fp32"),  # AVX-512 without bf16 units
        ("bf16-true", True, {}, True, "slower than fp32"),
        ("bf16-mixed", True, AVX2_ONLY, False, "computes in fp32"),  # AVX2 alone (AMD EPYC Zen 3)
        ("bf16-mixed", True, {**AVX2_ONLY, "avx_vnni": True}, False, "computes in fp32"),  # AVX2-VNNI-2
        ("bf16-mixed", True, {"avx512_bf16": True}, True, None),
        ("bf16-mixed", True, {"amx_bf16": True}, True, None),
        ("bf16-mixed", True, {"architecture": "arm64"}, True, None),
        ("bf16-mixed", False, {}, False, None),  # a GPU: nothing asked of oneDNN
        ("32-true", True, AVX2_ONLY, False, None),
    ],
)
def test_each_cpu_kind_gets_its_line(precision, on_cpu, units, onednn_runs, said):
    asked = []

    def keep_out() -> bool:
        asked.append(True)
        return not onednn_runs

    line = prepare_bf16_on_cpu(precision, on_cpu, {**WITHOUT, **units}, keep_onednn_out=keep_out)
    assert (line is None) == (said is None)
    if said:
        assert said in line and "--trainer.precision 32-true" in line and "\n" not in line
    assert bool(asked) == (on_cpu and precision.startswith("bf16"))


def test_a_bf16_fit_where_onednn_cannot_runs_in_fp32_and_says_so(
    fake_data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(onednn_bf16_lstm, "onednn_runs_bf16_lstm", lambda: False)
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", True)  # restored after the test
    args = fit_args(fake_data_dir, *FEW_STEPS, "--trainer.precision", "bf16-mixed", "--data.batch_size", "16")
    assert main(args) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if "no bf16 LSTM kernel" in line]
    assert len(lines) == 1 and "32-true" not in captured.out
    assert torch.backends.mkldnn.enabled is False
    with torch.autocast("cpu", dtype=torch.bfloat16):  # what the run computed: the LSTM in fp32
        outputs, _ = torch.nn.LSTM(4, 4)(torch.randn(3, 2, 4))
    assert outputs.dtype == torch.float32


@pytest.mark.parametrize("avx512_bf16", [False, True])
def test_a_bf16_fit_without_bf16_units_says_fp32_is_faster(
    avx512_bf16, fake_data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {**WITHOUT, "avx512_bf16": avx512_bf16})
    monkeypatch.setattr(onednn_bf16_lstm, "onednn_runs_bf16_lstm", lambda: True)
    args = fit_args(fake_data_dir, *FEW_STEPS, "--trainer.precision", "bf16-mixed", "--data.batch_size", "16")
    assert main(args) == 0
    captured = capsys.readouterr()
    advice = [line for line in captured.err.splitlines() if "32-true is faster here" in line]
    assert "32-true" not in captured.out
    if avx512_bf16:
        assert advice == []
    else:
        assert advice == [
            "python -m rnn_lightning: precision bf16-mixed on a CPU with neither AVX-512 BF16 nor AMX "
            "runs the LSTM slower than fp32; --trainer.precision 32-true is faster here"
        ]
