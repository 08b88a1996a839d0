"""benchmarks/ as a toolbox: every script runs (`--help`), asks for its data folder in one line where none
is given, imports nothing from tests/, and names the processor and the commit of its figures, "unknown"
outside a git clone rather than a crash."""

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT, make_fake_mnist

BENCHMARKS = PROJECT / "benchmarks"
SCRIPTS = sorted(path.name for path in BENCHMARKS.iterdir() if path.suffix in (".py", ".sh"))
WITHOUT_DATA = {key: value for key, value in os.environ.items() if key != "RNN_LIGHTNING_DATA"}


def run(script: str, *args: str, cwd: Path = PROJECT, env=None) -> subprocess.CompletedProcess:
    runner = ["bash"] if script.endswith(".sh") else [sys.executable]
    command = [*runner, str(BENCHMARKS / script), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def run_in_process(script: str, *args: str, monkeypatch, capsys) -> subprocess.CompletedProcess:
    """`python benchmarks/SCRIPT ARGS` as `runpy` runs a script, in this process: its exit status and what
    it printed (a subprocess would add only the interpreter's start-up, seconds for each script)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as Python puts a script's folder first
    monkeypatch.setattr(sys, "argv", [str(BENCHMARKS / script), *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(BENCHMARKS / script), run_name="__main__")
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(sys.argv, stop.value.code or 0, out, err)


@pytest.mark.parametrize("script", [name for name in SCRIPTS if name != "common.py"])
def test_every_benchmark_answers_help(script, monkeypatch, capsys):
    if script.endswith(".sh"):
        result = run(script, "--help")
    else:
        result = run_in_process(script, "--help", monkeypatch=monkeypatch, capsys=capsys)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"benchmarks/{script}" in result.stdout  # the usage line of its docstring


@pytest.mark.parametrize("script", ["time_to_accuracy.py", "throughput.py", "gpu.sh"])
def test_a_benchmark_without_its_data_folder_says_how_to_give_it(script, tmp_path, monkeypatch, capsys):
    if script.endswith(".sh"):
        result = run(script, cwd=tmp_path, env=WITHOUT_DATA)
    else:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("RNN_LIGHTNING_DATA", raising=False)
        result = run_in_process(script, monkeypatch=monkeypatch, capsys=capsys)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "RNN_LIGHTNING_DATA" in lines[-1], result.stderr[-2000:]
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []


def test_the_data_folder_comes_from_the_environment_and_nothing_is_hard_coded(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("RNN_LIGHTNING_DATA", "/somewhere/data")
    import argparse

    import common

    parser = argparse.ArgumentParser()
    common.add_data_dir(parser)
    monkeypatch.setattr(sys, "argv", ["x"])
    assert common.parse(parser).data_dir == "/somewhere/data"
    for path in BENCHMARKS.iterdir():
        text = path.read_text()
        assert "shared/data" not in text and '"shared"' not in text, path.name
        assert "from tests" not in text and "import tests" not in text, path.name
        assert path.name == "common.py" or "PROJECT = " not in text, path.name


def test_the_scripts_spell_their_options_as_the_package_does(monkeypatch):
    """`--data_dir` and `--ckpt_path`, as `--data.data_dir` and `--ckpt_path`; the earlier `--data-dir`
    and `--ckpt` still read, written nowhere in benchmarks/ or scripts/ but in the parser's alias."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import argparse

    import common

    parser = argparse.ArgumentParser()
    common.add_data_dir(parser)
    for spelling in ("--data_dir", "--data-dir"):
        monkeypatch.setattr(sys, "argv", ["x", spelling, "/given"])
        assert common.parse(parser).data_dir == "/given"
    for path in [*BENCHMARKS.iterdir(), *(BENCHMARKS.parent / "scripts").iterdir()]:
        if path.suffix not in (".py", ".sh"):
            continue
        text = (
            path.read_text()
            .replace('"--data_dir",\n        "--data-dir"', "")
            .replace('"--ckpt_path", "--ckpt"', "")
        )
        assert "--data-dir" not in text and not re.search(r"--ckpt\b(?!_)", text), path.name


def test_the_processor_line_and_the_commit_never_crash_outside_a_clone(tmp_path):
    """common.py copied out of the clone: the commit is "unknown"; the processor line names the model,
    the cores and both bf16 flags."""
    shutil.copy(BENCHMARKS / "common.py", tmp_path / "common.py")
    script = "import common; print(common.commit()); print(common.processor())"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    commit, processor = result.stdout.strip().splitlines()
    assert commit == "unknown"
    assert f"{os.cpu_count()} cores" in processor
    assert "avx512_bf16: " in processor and "amx_bf16: " in processor


def test_inside_the_clone_the_commit_is_the_checkouts(monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("no git")
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import common

    assert common.commit().split("+")[0] == head.stdout.strip()


def test_the_step_profile_reads_the_lstm_kernels_onednn_picks(monkeypatch):
    """step_profile.py names oneDNN's LSTM kernels from ONEDNN_VERBOSE's lines: if oneDNN changes that
    format, or PyTorch stops handing the LSTM to oneDNN, this says so."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import step_profile

    names = step_profile.lstm_kernels("32-true", 8)
    assert "forward_training" in names and "backward" in names, names


def test_the_step_profile_counts_the_speedrun_optimizers_parts(monkeypatch, tmp_path):
    """A few profiled steps of the speedrun: Muon's Newton-Schulz and AdamW are parts of their own, not
    'the rest' (a profile that lost them would put a sixth of a step under the head and the loss)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import argparse

    import step_profile

    from rnn_lightning.training import muon_adamw

    plain = muon_adamw.orthogonalized
    args = argparse.Namespace(data_dir=str(make_fake_mnist(tmp_path / "data")), config="speedrun.yaml")
    args.warmup, args.steps = 2, 3
    parts = step_profile.profile_parts(args, "32-true", 1)
    assert parts["Muon's Newton-Schulz"] > 0 and parts["AdamW and zero_grad"] > 0, parts
    assert muon_adamw.orthogonalized is plain, "the profiling mark outlived the profile"


@pytest.mark.slow  # four real commands and two bare loops
def test_time_to_accuracy_sets_each_command_against_the_bare_epochs_either_side(tmp_path):
    """A tiny run (one seed of three steps, bare epochs of three steps): the bare epoch is measured
    before the seed and after it, and the seed's ratio is its whole command over their mean."""
    data = make_fake_mnist(tmp_path / "data")
    fit = "--trainer.max_steps 3 --trainer.val_check_interval 3 --data.batch_size 16"
    result = run(
        "time_to_accuracy.py", "--data_dir", str(data), "--seeds", "1", "--no-own-seed",
        "--bare-steps", "3", f"--options={fit}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    before = float(re.search(r"^bare epoch before the first seed: ([0-9.]+) s$", result.stdout, re.M)[1])
    after = float(re.search(r"^bare epoch after seed 1: ([0-9.]+) s$", result.stdout, re.M)[1])
    row = re.search(
        r"^\| `speedrun.yaml` \| as typed \| 1 \| ([0-9.]+) s \| ([0-9.]+) \|", result.stdout, re.M
    )
    wall, ratio = float(row[1]), float(row[2])
    assert ratio == pytest.approx(wall / ((before + after) / 2), abs=0.01 + 0.05 * ratio)
    assert f"bare epochs (mean {ratio:.2f})" in result.stdout
    assert f"options of every run: {fit}" in result.stdout
