"""The commands as a user types them, progress bar on: the tutorial's lines in order on stdout (in a
terminal and redirected), results alone on stdout, no library noise on stderr, and `predict` giving the
same probabilities as `serve` for a checkpoint trained in bf16."""

import csv
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rnn_lightning.serving.local_server import request, running_server
from tests.conftest import CONFIGS, FEW_STEPS, make_fake_mnist, run_cli

BAR_ON = ("--trainer.limit_test_batches", "1")  # the progress bar stays as configured: on
TUTORIAL_LINE = re.compile(
    r"Step \d+, Minibatch Loss= \d+\.\d{4}, Training Accuracy= \d\.\d{3}$"
    r"|Optimization Finished!$"
    r"|Testing Accuracy: \d\.\d{4} \(\d+ test images\)$"
    r"|Testing Accuracy: \d\.\d{4} \(first 128 test images, as the tutorial\)$"
)
NOISE = (
    "litlogger",  # Lightning's advertisement
    "LeafSpec",  # torch's deprecation of what Lightning's pytree copy uses
    "The dirpath has changed",  # every predict from a checkpoint of another run
    "not supported by the model summary",  # bf16-mixed
)


def fit_command(data_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "rnn_lightning", "fit", "--config", str(CONFIGS / "default.yaml"),
        "--data.data_dir", str(data_dir), *FEW_STEPS, *BAR_ON, *extra,
    ]  # fmt: skip


def assert_tutorial_order(lines: list[str]) -> None:
    """The tutorial's lines: step lines, then "Optimization Finished!", then the two test accuracies."""
    kinds = [line.split(",")[0].split(":")[0].split(" ")[0] for line in lines]
    assert kinds == ["Step"] * (len(kinds) - 3) + ["Optimization", "Testing", "Testing"], lines
    assert lines[0].startswith("Step 1,") and "(first 128 test images" in lines[-1]


def run_in_terminal(command: list[str], cwd: Path) -> str:
    """Runs `command` with stdout and stderr on a pseudo-terminal 120 columns wide; returns all it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(command, cwd=cwd, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=600) == 0, b"".join(chunks)[-3000:]
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def bf16_run(tmp_path_factory):
    """A tiny bf16-mixed fit as typed, progress bar on, stdout to a pipe: (folder, its result)."""
    workdir = tmp_path_factory.mktemp("bf16")
    data_dir = make_fake_mnist(workdir / "data")
    command = fit_command(data_dir, "--trainer.precision", "bf16-mixed")
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, data_dir, result


@pytest.fixture(scope="module")
def pictures(bf16_run) -> list[Path]:
    """Five PNG files of the generated digits, as a user's own images."""
    workdir, data_dir, _ = bf16_run
    raw = (data_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte").read_bytes()
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    folder = workdir / "pictures"
    folder.mkdir()
    for index in range(5):
        Image.fromarray(images[index]).resize((56, 56)).save(folder / f"digit{index}.png")
    return sorted(folder.glob("*.png"))


@pytest.fixture(scope="module")
def predicted(bf16_run, pictures):
    """`predict` of the pictures with the bf16 run's checkpoint, stdout to a pipe: (result, csv rows)."""
    workdir = bf16_run[0]
    result = run_cli(
        "predict", "--config", str(workdir / "lightning_logs/version_0/config.yaml"),
        "--ckpt_path", "last", "--data.predict_path", str(pictures[0].parent / "*.png"), cwd=workdir,
    )  # fmt: skip
    with (workdir / "lightning_logs/version_1/predictions.csv").open() as file:
        rows = list(csv.DictReader(file))
    return result, rows


def test_fit_in_a_terminal_prints_the_tutorial_lines_in_order(tmp_path):
    data_dir = make_fake_mnist(tmp_path / "data")
    written = run_in_terminal(fit_command(data_dir), tmp_path)
    assert "Epoch 0: 100%" in written  # the bar was drawn
    pieces = [piece.strip() for piece in re.split(r"[\r\n]", written)]
    assert_tutorial_order([piece for piece in pieces if TUTORIAL_LINE.match(piece)])


def test_fit_redirected_writes_only_the_tutorial_lines_to_stdout(bf16_run):
    _, _, result = bf16_run
    lines = result.stdout.splitlines()
    assert all(TUTORIAL_LINE.match(line) for line in lines), result.stdout[-2000:]
    assert_tutorial_order(lines)
    assert "Epoch 0: 100%" in result.stderr and "Testing DataLoader 0: 100%" in result.stderr


def test_test_and_predict_redirected_write_only_results_to_stdout(bf16_run, predicted, pictures):
    workdir, _, _ = bf16_run
    tested = run_cli(
        "test", "--config", str(workdir / "lightning_logs/version_0/config.yaml"), "--ckpt_path", "last",
        *BAR_ON, cwd=workdir,
    )  # fmt: skip
    assert "Testing DataLoader 0: 100%" in tested.stderr
    assert "%|" not in tested.stdout and "\r" not in tested.stdout and "Testing Accuracy: " in tested.stdout
    result, _ = predicted
    assert "Predicting DataLoader 0: 100%" in result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [str(path) for path in pictures], result.stdout
    assert all(re.fullmatch(r"\S+ \d \d\.\d{4}", line) for line in lines)
    for stderr in (tested.stderr, result.stderr, bf16_run[2].stderr):
        assert not [noise for noise in NOISE if noise in stderr], stderr[-3000:]


def test_a_real_warning_still_shows(bf16_run):
    # Three training batches, fewer than the 50 steps between logs: Lightning says so, and it should.
    assert "smaller than the logging interval" in bf16_run[2].stderr
    from rnn_lightning.cli.library_noise import silence_library_noise

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_library_noise()
        leaf = "`isinstance(treespec, LeafSpec)` is deprecated, use ..."
        warnings.warn_explicit(leaf, FutureWarning, "_pytree.py", 21, "lightning.pytorch.utilities._pytree")
        warnings.warn_explicit(leaf, FutureWarning, "mine.py", 1, "mine")  # the same words elsewhere
        warnings.warn("something the user should see", UserWarning, stacklevel=1)
    assert [str(w.message)[:9] for w in caught] == ["`isinstan", "something"]


def test_predict_and_serve_give_the_same_probabilities_for_a_bf16_checkpoint(bf16_run, predicted, pictures):
    from rnn_lightning.data.image_files import load_image
    from rnn_lightning.model.reading import DigitReader

    workdir, _, _ = bf16_run
    checkpoint = workdir / "lightning_logs/version_0/checkpoints/last.ckpt"
    _, rows = predicted
    reader = DigitReader(checkpoint)
    for row, path in zip(rows, pictures, strict=True):
        probabilities = reader.read(load_image(path)[0][None]).probabilities
        assert int(probabilities[0].argmax()) == int(row["digit"])
        assert abs(float(probabilities[0].max()) - float(row["probability"])) < 1e-5
    with running_server(checkpoint, workdir, "--workers", "1") as (base, _process):
        status, answer = request(f"{base}/predict", pictures[0].read_bytes(), "image/png")
    assert status == 200 and answer["digit"] == int(rows[0]["digit"])
    assert abs(answer["probability"] - float(rows[0]["probability"])) < 1e-5
