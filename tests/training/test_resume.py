"""Resuming: a run stopped in mid-epoch and resumed ends with the weights of a run straight through."""

import signal
import subprocess
import sys

import pytest
import torch

from tests.conftest import checkpoint_weights, fit_args, run_cli


@pytest.mark.slow  # three fits on real MNIST
def test_resume_in_mid_epoch_is_bit_exact(real_data_dir, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    straight.mkdir(), split.mkdir()
    # 600 steps cross the end of the first epoch (430 steps) and its validation.
    run_cli(*fit_args(real_data_dir, "--trainer.max_steps", "600"), cwd=straight)
    run_cli(*fit_args(real_data_dir, "--trainer.max_steps", "300"), cwd=split)
    resumed = run_cli(
        *fit_args(real_data_dir, "--trainer.max_steps", "600", "--ckpt_path", "last"), cwd=split
    )
    assert "Step 400," in resumed.stdout and "Step 200," not in resumed.stdout  # it continued, not restarted
    step_a, state_a = checkpoint_weights(straight / "lightning_logs/version_0/checkpoints/last.ckpt")
    step_b, state_b = checkpoint_weights(split / "lightning_logs/version_1/checkpoints/last.ckpt")
    assert step_a == step_b == 600
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name
    # the first run's folder is left as it was: the resumed run wrote a folder of its own
    assert checkpoint_weights(split / "lightning_logs/version_0/checkpoints/last.ckpt")[0] == 300


@pytest.mark.slow  # three commands; the quick run resumes after Ctrl-C and the speedrun on a validation step
def test_resume_with_dropout_is_bit_exact(fake_data_dir, tmp_path):
    # A two-layer LSTM with dropout draws random masks every step: the generator's state is resumed too.
    dropout = ["--model.num_layers", "2", "--model.dropout", "0.3", "--data.batch_size", "16"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    straight.mkdir(), split.mkdir()
    run_cli(*fit_args(fake_data_dir, *dropout, "--trainer.max_steps", "30"), cwd=straight)
    run_cli(*fit_args(fake_data_dir, *dropout, "--trainer.max_steps", "13"), cwd=split)
    run_cli(*fit_args(fake_data_dir, *dropout, "--trainer.max_steps", "30", "--ckpt_path", "last"), cwd=split)
    _, state_a = checkpoint_weights(straight / "lightning_logs/version_0/checkpoints/last.ckpt")
    _, state_b = checkpoint_weights(split / "lightning_logs/version_1/checkpoints/last.ckpt")
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name


def test_resume_without_any_run_is_a_clear_error(fake_data_dir, tmp_path, run_here):
    result = run_here(*fit_args(fake_data_dir, "--ckpt_path", "last"), cwd=tmp_path, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no " in result.stderr and "last.ckpt to resume from" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_signal_saves_the_step_reached_and_resume_continues(fake_data_dir, tmp_path, signum):
    command = [
        sys.executable,
        "-m",
        "rnn_lightning",
        *fit_args(fake_data_dir, "--trainer.max_steps", "100000"),
    ]
    command += ["--data.batch_size", "16"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for line in process.stdout:
        if line.startswith("Step 200,"):
            break
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    # each signal named as it was: Lightning's own "Received SIGTERM: 15" would say SIGTERM after a Ctrl-C
    name, other = ("Ctrl-C", "SIGTERM") if signum == signal.SIGINT else ("SIGTERM", "Ctrl-C")
    assert f"\n{name}: stopping after this step and saving it" in stderr
    assert f"stopped by {name}; resume with the same command and --ckpt_path last" in stderr
    assert other not in stderr and "Received SIGTERM" not in stderr
    step, _state = checkpoint_weights(tmp_path / "lightning_logs/version_0/checkpoints/last.ckpt")
    assert step >= 200
    resumed = run_cli(
        *fit_args(fake_data_dir, "--trainer.max_steps", str(step + 7), "--data.batch_size", "16"),
        "--ckpt_path",
        "last",
        cwd=tmp_path,
    )
    assert "Optimization Finished!" in resumed.stdout
    assert checkpoint_weights(tmp_path / "lightning_logs/version_1/checkpoints/last.ckpt")[0] == step + 7
