"""Run folders written by earlier versions still test, resume and predict with today's code.

`tests/checkpointing/old_runs/COMMIT/` holds the `config.yaml`, `hparams.yaml` and
`checkpoints/last.ckpt` that a 3-step
`fit --config configs/default.yaml --model.hidden_size 8` wrote at COMMIT, byte for byte: b94187c (0.1,
before the package was grouped: its config names `rnn_lightning.profiling.NullProfiler`) and 284ad6c (0.2,
the last commit with the re-export modules). Their old class paths reach today's classes through
`cli/renamed_paths.py`'s table alone: no module is kept at an old address.
"""

import contextlib
import io
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from rnn_lightning.cli.main import main
from tests.conftest import validation_batches

OLD_RUNS = Path(__file__).parent / "old_runs"
WRITTEN_AT = ["b94187c", "284ad6c"]


@pytest.fixture(params=WRITTEN_AT)
def old_run(request, tmp_path, fake_data_dir, monkeypatch) -> Path:
    """A copy of an old run as `lightning_logs/version_0/` of a fresh folder, the working directory."""
    run = tmp_path / "lightning_logs" / "version_0"
    shutil.copytree(OLD_RUNS / request.param, run)
    monkeypatch.chdir(tmp_path)
    return run


def command(*args: str) -> str:
    """What `python -m rnn_lightning ARGS` prints on stdout, run in this process; it must succeed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(list(args)) == 0, args
    return printed.getvalue()


def test_the_old_runs_name_class_paths_that_moved():
    """What the table is tested on: a path that is gone (0.1) and top-level names kept by `__init__`."""
    assert "rnn_lightning.profiling.NullProfiler" in (OLD_RUNS / "b94187c" / "config.yaml").read_text()
    assert not (Path(__file__).parents[2] / "rnn_lightning" / "profiling.py").exists()
    for commit in WRITTEN_AT:
        assert "rnn_lightning.FinalStepCheckpoint" in (OLD_RUNS / commit / "config.yaml").read_text()


def test_an_old_run_tests_with_its_own_config(old_run, fake_data_dir):
    data = ("--data.data_dir", str(fake_data_dir), "--data.eval_batch_size", "128")
    printed = command("test", "--config", str(old_run / "config.yaml"), *data, "--ckpt_path", "last")
    assert "Testing Accuracy: " in printed and "(200 test images)" in printed


def test_an_old_run_resumes_where_it_stopped(old_run, fake_data_dir):
    assert torch.load(old_run / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == 3
    command(
        "fit",
        "--config",
        str(old_run / "config.yaml"),
        "--data.data_dir",
        str(fake_data_dir),
        "--ckpt_path",
        "last",
        "--trainer.max_steps",
        "5",
        "--trainer.enable_progress_bar",
        "false",
        "--test_after_fit",
        "false",
        *validation_batches(1),
    )
    resumed = sorted(old_run.parent.glob("version_*/checkpoints/last.ckpt"))[-1]
    assert resumed.parents[1].name != "version_0"  # a new run folder; the old one is left as it was
    assert torch.load(resumed, weights_only=False)["global_step"] == 5


def test_an_old_checkpoint_predicts_an_image_file(old_run, tmp_path):
    picture = tmp_path / "digit.png"
    Image.new("L", (28, 28)).save(picture)
    checkpoint = old_run / "checkpoints" / "last.ckpt"
    printed = command("predict", "--ckpt_path", str(checkpoint), "--data.predict_path", str(picture))
    name, digit, probability = printed.split()
    assert name == str(picture) and digit in "0123456789" and 0.0 < float(probability) <= 1.0
