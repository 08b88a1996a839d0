"""Precision per processor: what `trainer.precision: auto` picks on each kind of CPU (and a CUDA GPU), by
its capabilities and what oneDNN's bf16 LSTM does there (the probe, mocked here; the real one on this
machine and with oneDNN capped at AVX2), that a bf16 fit runs on each, and the one line each says."""

import os
import subprocess
import sys

import pytest
import torch
import yaml

from rnn_lightning.cli import lightning_cli
from rnn_lightning.cli.main import main
from rnn_lightning.training import cpu_precision
from rnn_lightning.training.cpu_precision import bf16_advice, cpu_bf16
from rnn_lightning.training.precision_choice import auto_precision
from rnn_lightning.workarounds.onednn_lstm_autocast import onednn_runs_lstm_in
from tests.conftest import FEW_STEPS, PROJECT, fit_args

X86 = {"architecture": "x86_64", "avx": True, "avx2": True, "fma3": True}
AVX512 = {**X86, "avx512_f": True, "avx512_bw": True, "avx512_vl": True, "avx512_vnni": True}
# Each kind: its capabilities as torch.cpu.get_capabilities() names them, and whether oneDNN trains the
# bf16 LSTM there (forward and backward): False on AVX2 (pytorch/pytorch#88136; seen here with oneDNN
# capped at AVX2) and on AVX2-VNNI-2, whose bf16 backward oneDNN lacks (pytorch/pytorch#148861).
CPU_KINDS = {
    "avx2-only": (X86, False),
    "avx2-vnni-2": ({**X86, "avx_vnni": True, "avx_vnni_int8": True, "avx_ne_convert": True}, False),
    "avx512-without-bf16": (AVX512, True),
    "avx512-bf16": ({**AVX512, "avx512_bf16": True}, True),
    "amx": ({**AVX512, "avx512_bf16": True, "amx_tile": True, "amx_bf16": True}, True),
    "arm": ({"architecture": "arm64", "neon": True, "bf16": True}, True),
}
AUTO_PICKS = {
    "avx2-only": "32-true",
    "avx2-vnni-2": "32-true",
    "avx512-without-bf16": "32-true",
    "avx512-bf16": "bf16-mixed",
    "amx": "bf16-mixed",
    "arm": "32-true",
}
BF16_SAYS = {  # what a bf16 fit says on stderr, by the end of its line
    "avx2-only": "--trainer.precision auto picks 32-true here",
    "avx2-vnni-2": "--trainer.precision auto picks 32-true here",
    "avx512-without-bf16": "--trainer.precision 32-true is faster here",
}


@pytest.fixture
def on_cpu_kind(request, monkeypatch):
    """This process made to see the CPU kind `request.param`: its capabilities and the probe's answer."""
    capabilities, lstm_runs = CPU_KINDS[request.param]
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
    monkeypatch.setattr(cpu_precision, "onednn_runs_lstm_in", lambda dtype: lstm_runs)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return request.param


@pytest.mark.parametrize("kind", CPU_KINDS)
def test_auto_picks_bf16_only_where_onednn_trains_the_lstm_on_bf16_units(kind):
    capabilities, lstm_runs = CPU_KINDS[kind]
    precision, why = auto_precision("cpu", capabilities, lstm_runs)
    assert precision == AUTO_PICKS[kind]
    assert why and "\n" not in why


@pytest.mark.parametrize("kind", CPU_KINDS)
@pytest.mark.parametrize("precision", ["bf16-mixed", "bf16-true"])
def test_a_bf16_line_only_where_bf16_does_not_pay(kind, precision):
    capabilities, lstm_runs = CPU_KINDS[kind]
    line = bf16_advice(precision, True, capabilities, lstm_runs)
    if kind in BF16_SAYS:
        assert line.startswith(f"precision {precision}") and line.endswith(BF16_SAYS[kind])
    else:
        assert line is None
    assert bf16_advice(precision, False, capabilities, lstm_runs) is None  # on a GPU
    assert bf16_advice("32-true", True, capabilities, lstm_runs) is None


@pytest.mark.parametrize("bf16", [True, False])
def test_auto_on_a_cuda_gpu_picks_bf16_where_it_has_it(bf16, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    avx2 = CPU_KINDS["avx2-only"]
    for accelerator in ("auto", "gpu", "cuda"):
        assert auto_precision(accelerator, *avx2)[0] == ("bf16-mixed" if bf16 else "32-true")
    assert auto_precision("cpu", *avx2)[0] == "32-true"  # the CPU's own answer, GPU or not
    assert auto_precision("cpu", *CPU_KINDS["amx"])[0] == "bf16-mixed"


@pytest.mark.parametrize("on_cpu_kind", CPU_KINDS, indirect=True)
def test_a_fit_at_auto_and_in_bf16_runs_on_every_cpu_kind_and_says_which(
    on_cpu_kind, fake_data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    small = (*FEW_STEPS, "--data.batch_size", "16")
    for precision in ("auto", "bf16-mixed"):
        assert main(fit_args(fake_data_dir, *small, "--trainer.precision", precision)) == 0
    captured = capsys.readouterr()
    ours = [
        line
        for line in captured.err.splitlines()
        if line.startswith("python -m rnn_lightning: ") and "this run's files are in" not in line
    ]
    chosen = AUTO_PICKS[on_cpu_kind]
    assert ours[0].startswith(f"python -m rnn_lightning: precision auto: {chosen} (")
    said = bf16_advice("bf16-mixed", True)  # this kind's, as the fixture makes it
    assert ours[1:] == ([f"python -m rnn_lightning: {said}"] if on_cpu_kind in BF16_SAYS else [])
    assert "precision" not in captured.out
    saved = [
        yaml.safe_load((tmp_path / f"lightning_logs/version_{n}/config.yaml").read_text()) for n in (0, 1)
    ]
    assert [config["trainer"]["precision"] for config in saved] == [chosen, "bf16-mixed"]


def test_the_real_probe_agrees_with_what_the_lstm_does_here():
    """On this machine, unmocked: the probe's answer is what a bf16 LSTM's forward and backward do under
    autocast, and `auto` picks bf16 only where that runs on bf16 units."""
    lstm = torch.nn.LSTM(28, 32, batch_first=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outputs, _ = lstm(torch.rand(8, 28, 28))
        outputs.float().sum().backward()
        trains = True
    except RuntimeError:
        trains = False
    assert onednn_runs_lstm_in(torch.bfloat16) == trains
    kind = cpu_bf16()
    assert (auto_precision("cpu")[0] == "bf16-mixed") == (kind == "fast")
    if kind == "fast":
        assert trains and cpu_precision.bf16_unit(torch.cpu.get_capabilities())


@pytest.mark.skipif(torch.cpu.get_capabilities().get("architecture") != "x86_64", reason="an x86 cap")
def test_with_onednn_capped_at_avx2_auto_picks_fp32_and_the_probe_says_why():
    """The real probe where oneDNN acts as an AVX2-only CPU (`ONEDNN_MAX_CPU_ISA=AVX2`: emulated on a
    CPU with more; on an AVX2 CPU, that CPU itself)."""
    code = (
        "import torch\n"
        "from rnn_lightning.training.precision_choice import auto_precision\n"
        "from rnn_lightning.workarounds.onednn_lstm_autocast import onednn_runs_lstm_in\n"
        "print(onednn_runs_lstm_in(torch.bfloat16), *auto_precision('cpu'), sep='|')\n"
    )
    environment = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONPATH": str(PROJECT)}
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False|32-true|oneDNN on this CPU cannot train the LSTM in bf16"


def test_an_explicit_precision_is_obeyed(fake_data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lightning_cli, "auto_precision", lambda *args: pytest.fail("auto resolved"))
    args = fit_args(fake_data_dir, *FEW_STEPS, "--trainer.precision", "32-true", config="speedrun.yaml")
    assert main(args) == 0
    assert "precision auto" not in capsys.readouterr().err
    saved = yaml.safe_load((tmp_path / "lightning_logs/version_0/config.yaml").read_text())
    assert saved["trainer"]["precision"] == "32-true"
