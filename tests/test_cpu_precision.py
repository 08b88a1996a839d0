"""bf16 on a CPU without bf16 units: `fit` says in one line on stderr that fp32 is faster there, and
says nothing where bf16 pays (AMX, AVX-512 BF16), on a GPU, in fp32 or off x86."""

import pytest
import torch

from rnn_lightning.cli.main import main
from rnn_lightning.training.cpu_precision import bf16_advice
from tests.conftest import FEW_STEPS, fit_args

WITHOUT = {"architecture": "x86_64", "avx512_f": True, "avx512_bf16": False, "amx_bf16": False}


@pytest.mark.parametrize(
    ("precision", "on_cpu", "units", "advised"),
    [
        ("bf16-mixed", True, {}, True),
        ("bf16-true", True, {}, True),
        ("bf16-mixed", True, {"avx512_bf16": True}, False),
        ("bf16-mixed", True, {"amx_bf16": True}, False),
        ("bf16-mixed", True, {"architecture": "arm64"}, False),
        ("bf16-mixed", False, {}, False),
        ("32-true", True, {}, False),
    ],
)
def test_the_advice_names_fp32_only_where_bf16_has_no_units(precision, on_cpu, units, advised):
    line = bf16_advice(precision, on_cpu, {**WITHOUT, **units})
    assert (line is not None) == advised
    if advised:
        assert "--trainer.precision 32-true" in line and "\n" not in line


@pytest.mark.parametrize("avx512_bf16", [False, True])
def test_a_bf16_fit_on_such_a_cpu_says_so_on_stderr(
    avx512_bf16, fake_data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {**WITHOUT, "avx512_bf16": avx512_bf16})
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
