"""The speedrun config: it trains in bf16 and fp32, resumes exactly, and its one-cycle schedule spans
the run."""

import pytest
import torch
import yaml

from rnn_lightning.cli.main import main
from tests.conftest import CONFIGS, checkpoint_weights, fit_args, run_cli, validation_batches

SPEEDRUN = ["--config", str(CONFIGS / "speedrun.yaml"), "--data.batch_size", "16"]


def speedrun_args(data_dir, *extra: str) -> list[str]:
    return fit_args(data_dir, "--data.batch_size", "16", *extra, config="speedrun.yaml")


@pytest.mark.parametrize("precision", ["bf16-mixed", "32-true"])
def test_speedrun_trains_in_bf16_and_fp32(precision, fake_data_dir, tmp_path):
    result = run_cli(
        *speedrun_args(fake_data_dir, "--trainer.max_steps", "8", "--trainer.precision", precision),
        "--test_after_fit", "true", cwd=tmp_path,
    )  # fmt: skip
    assert "Testing Accuracy:" in result.stdout
    step, state = checkpoint_weights(tmp_path / "lightning_logs/version_0/checkpoints/last.ckpt")
    assert step == 8 and all(torch.isfinite(value).all() for value in state.values())


@pytest.mark.parametrize("stop", [13, 12])  # 12: a validation falls on the step it stopped at
def test_speedrun_resumes_exactly_on_its_schedule(fake_data_dir, tmp_path, stop):
    straight, split = tmp_path / "straight", tmp_path / "split"
    straight.mkdir(), split.mkdir()
    validate = ["--trainer.val_check_interval", "6", *validation_batches(1)]
    run_cli(*speedrun_args(fake_data_dir, "--trainer.max_steps", "30", *validate), cwd=straight)
    # stopped at step `stop` of the same 30-step schedule, then resumed, as after Ctrl-C
    first = ["--trainer.max_steps", str(stop), "--lr_scheduler.init_args.total_steps", "30", *validate]
    run_cli(*speedrun_args(fake_data_dir, *first), cwd=split)
    resumed = ["--trainer.max_steps", "30", "--ckpt_path", "last", *validate]
    run_cli(*speedrun_args(fake_data_dir, *resumed), cwd=split)
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
