"""Two processes on one machine (DDP on CPU), through the real command line in a subprocess."""

import re

import pytest

from tests.conftest import CONFIGS, run_cli

pytestmark = pytest.mark.slow  # two processes for a few hundred steps: CI's full run


def test_ddp_fit_reports_once_writes_once_and_tests_the_whole_set(fake_data_dir, tmp_path):
    common = ["--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(fake_data_dir)]
    common += ["--trainer.enable_progress_bar", "false", "--data.batch_size", "16"]
    result = run_cli(
        "fit",
        *common,
        "--trainer.accelerator",
        "cpu",
        "--trainer.devices",
        "2",
        "--trainer.strategy",
        "ddp",
        "--trainer.max_steps",
        "210",
        cwd=tmp_path,
    )
    lines = result.stdout.splitlines()
    assert [line.split(",")[0] for line in lines if line.startswith("Step ")] == [
        "Step 1",
        "Step 200",
        "Step 210",
    ]
    assert lines.count("Optimization Finished!") == 1
    tested = [line for line in lines if line.startswith("Testing Accuracy:") and "(200 test images)" in line]
    assert len(tested) == 1  # both processes tested, the accuracy is over all 200 images
    run = tmp_path / "lightning_logs" / "version_0"
    assert (run / "performance.png").is_file() and (run / "history.csv").is_file()
    assert len(list(tmp_path.rglob("history.csv"))) == 1
    pictures = (
        "confusion_matrix",
        "errors",
        "accuracy_by_row",
        "calibration",
        "gates_by_row",
        "memory_by_digit",
    )
    for picture in (f"{name}.png" for name in pictures):
        assert [path.parent for path in tmp_path.rglob(picture)] == [run], picture  # written once
    support = [int(line.split(",")[-1]) for line in (run / "per_class.csv").read_text().splitlines()[1:]]
    assert sum(support) == 200  # the test report counts every test image once over both processes
    by_row = (run / "accuracy_by_row.csv").read_text().splitlines()
    history = (run / "history.csv").read_text().splitlines()
    assert len(history) == len(set(history))  # each record written once
    # One process testing the same weights finds the same accuracy over the whole set.
    single = run_cli(
        "test",
        *common,
        "--trainer.devices",
        "1",
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
        cwd=tmp_path,
    )
    ddp_accuracy = float(tested[0].split()[2])
    single_accuracy = float(
        re.search(r"Testing Accuracy: ([0-9.]+) \(200 test images\)", single.stdout).group(1)
    )
    assert abs(ddp_accuracy - single_accuracy) < 1e-4
    assert abs(float(by_row[-1].split(",")[1]) - ddp_accuracy) < 1e-4
    # The inside states too: summed over both processes, they are one process' over the whole set.
    alone = tmp_path / "lightning_logs" / "version_1"
    for name in ("gates_by_row.csv", "memory_by_digit.csv"):
        both, one = (numbers((folder / name).read_text()) for folder in (run, alone))
        assert len(both) == len(one) and all(abs(a - b) < 2e-6 for a, b in zip(both, one, strict=True)), name
    images = [int(line.split(",")[1]) for line in (run / "memory_by_digit.csv").read_text().splitlines()[1:]]
    assert sum(images) == 200


def numbers(text: str) -> list[float]:
    """Every number of a CSV's rows after its header, but its first two columns (labels, counts)."""
    return [float(value) for line in text.splitlines()[1:] for value in line.split(",")[2:]]
