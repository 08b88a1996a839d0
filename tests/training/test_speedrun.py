"""The speedrun config: as typed it runs on real MNIST on this CPU and on an AVX2-only one, at the
precision `auto` picks there; it trains in bf16 and fp32, resumes exactly, and its one-cycle schedule
spans the run."""

import pytest
import torch
import yaml

from rnn_lightning.cli.main import main
from rnn_lightning.training.precision_choice import auto_precision
from tests.conftest import CONFIGS, checkpoint_weights, fit_args, run_cli, validation_batches

SPEEDRUN = ["--config", str(CONFIGS / "speedrun.yaml"), "--data.batch_size", "16"]


def speedrun_args(data_dir, *extra: str) -> list[str]:
    return fit_args(data_dir, "--data.batch_size", "16", *extra, config="speedrun.yaml")


# avx2-only is slow: the quick run keeps [this], and test_cpu_precision.py's run under oneDNN's AVX2 cap
@pytest.mark.parametrize("cpu", ["this", pytest.param("avx2-only", marks=pytest.mark.slow)])
def test_the_speedrun_as_typed_runs_a_few_real_steps(cpu, real_data_dir, tmp_path, monkeypatch):
    """`fit --config configs/speedrun.yaml` as a user types it, shortened, on this CPU and with oneDNN
    acting as an AVX2-only one (`ONEDNN_MAX_CPU_ISA=AVX2`: emulated where the CPU has more; on an x86 CPU
    without AVX-512 it is that CPU), where bf16 used to end the run in oneDNN's error."""
    if cpu == "avx2-only":
        if torch.cpu.get_capabilities().get("architecture") != "x86_64":
            pytest.skip("ONEDNN_MAX_CPU_ISA names x86 ISAs")
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    chosen = "32-true" if cpu == "avx2-only" else auto_precision()[0]
    short = ["--trainer.max_steps", "20", "--trainer.val_check_interval", "20"]
    result = run_cli(
        "fit", "--config", str(CONFIGS / "speedrun.yaml"), "--data.data_dir", str(real_data_dir), *short,
        cwd=tmp_path,
    )  # fmt: skip
    said = [line for line in result.stderr.splitlines() if "precision" in line and "rnn_lightning" in line]
    assert len(said) == 1 and said[0].startswith(f"python -m rnn_lightning: precision auto: {chosen} (")
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Step 1, Minibatch Loss=") and lines[-2].startswith("Testing Accuracy: ")
    run = tmp_path / "lightning_logs/version_0"
    assert yaml.safe_load((run / "config.yaml").read_text())["trainer"]["precision"] == chosen
    step, state = checkpoint_weights(run / "checkpoints/last.ckpt")
    assert step == 20 and all(torch.isfinite(value).all() for value in state.values())


@pytest.mark.parametrize(
    "precision", ["auto", *(pytest.param(p, marks=pytest.mark.slow) for p in ("bf16-mixed", "32-true"))]
)
def test_speedrun_trains_in_bf16_and_fp32(precision, fake_data_dir, tmp_path, run_here):
    result = run_here(
        *speedrun_args(fake_data_dir, "--trainer.max_steps", "8", "--trainer.precision", precision),
        "--test_after_fit", "true", cwd=tmp_path,
    )  # fmt: skip
    assert "Testing Accuracy:" in result.stdout
    step, state = checkpoint_weights(tmp_path / "lightning_logs/version_0/checkpoints/last.ckpt")
    assert step == 8 and all(torch.isfinite(value).all() for value in state.values())


@pytest.mark.parametrize(
    "stop", [pytest.param(13, marks=pytest.mark.slow), 12]
)  # 12: a validation on the stop
def test_speedrun_resumes_exactly_on_its_schedule(fake_data_dir, tmp_path, stop, run_here):
    straight, split = tmp_path / "straight", tmp_path / "split"
    straight.mkdir(), split.mkdir()
    validate = ["--trainer.val_check_interval", "6", *validation_batches(1)]
    run_here(*speedrun_args(fake_data_dir, "--trainer.max_steps", "30", *validate), cwd=straight)
    # stopped at step `stop` of the same 30-step schedule, then resumed, as after Ctrl-C
    first = ["--trainer.max_steps", str(stop), "--lr_scheduler.init_args.total_steps", "30", *validate]
    run_here(*speedrun_args(fake_data_dir, *first), cwd=split)
    resumed = ["--trainer.max_steps", "30", "--ckpt_path", "last", *validate]
    run_here(*speedrun_args(fake_data_dir, *resumed), cwd=split)
    step_a, state_a = checkpoint_weights(straight / "lightning_logs/version_0/checkpoints/last.ckpt")
    step_b, state_b = checkpoint_weights(split / "lightning_logs/version_1/checkpoints/last.ckpt")
    assert step_a == step_b == 30
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name


def test_one_cycle_spans_max_steps_and_a_shorter_one_is_one_line(
    fake_data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    from rnn_lightning.cli.lightning_cli import build_cli

    cli = build_cli(
        [*SPEEDRUN, "--trainer.max_steps", "40", "--data.data_dir", str(fake_data_dir)], run=False
    )
    schedulers = cli.model.configure_optimizers()["lr_scheduler"]
    assert schedulers["scheduler"].total_steps == 40 and schedulers["interval"] == "step"
    capsys.readouterr()  # that build's precision line
    args = speedrun_args(
        fake_data_dir, "--trainer.max_steps", "40", "--lr_scheduler.init_args.total_steps", "20"
    )
    assert main(args) == 2
    error = capsys.readouterr().err.strip()
    assert (
        error.startswith("python -m rnn_lightning: error: lr_scheduler OneCycleLR spans 20 steps")
        and "\n" not in error
    )


def test_speedrun_validates_on_its_last_step():
    """It validates every `val_check_interval` steps, a whole number of times in the run, so that the
    last validation is the final weights' whether or not the run ends on an epoch's end."""
    trainer = yaml.safe_load((CONFIGS / "speedrun.yaml").read_text())["trainer"]
    assert trainer["check_val_every_n_epoch"] is None
    assert trainer["max_steps"] % trainer["val_check_interval"] == 0
