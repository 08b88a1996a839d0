"""One Ctrl-C stops the test run with pytest's summary, even in the middle of an in-process fit and after
an in-process fit that failed (issue 37: one Ctrl-C did not stop pytest, a second killed it, status 143)."""

import os
import signal
import subprocess
import sys
import time

from tests.conftest import PROJECT

TESTS = """
from pathlib import Path

import lightning as L
import pytest

from rnn_lightning.cli.main import main
from tests.conftest import CONFIGS, QUICK_RUN, make_fake_mnist

STARTED = Path(__file__).with_name("started")


class Explode(L.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        raise RuntimeError("a fit that fails after it started")


class SayStarted(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        STARTED.touch()


def fit(tmp_path, monkeypatch, *extra):
    monkeypatch.chdir(tmp_path)
    data = make_fake_mnist(tmp_path / "data", train=5100, test=10)
    config = ["--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data), *QUICK_RUN]
    return main(["fit", *config, "--data.batch_size", "8", *extra])


def test_a_fit_that_fails(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="fails after it started"):
        fit(tmp_path, monkeypatch, "--trainer.callbacks+=test_interrupted.Explode")


def test_a_long_fit(tmp_path, monkeypatch):
    say_started = "--trainer.callbacks+=test_interrupted.SayStarted"
    fit(tmp_path, monkeypatch, "--trainer.max_steps", "1000000", say_started)


def test_after_the_interrupt():
    pass
"""


def ctrl_c_as_in_a_terminal() -> None:
    """In the child before exec: SIGINT at its default and not blocked, as a terminal's pytest starts. An
    ignored or blocked SIGINT (an earlier test of the suite may leave one so) is inherited through exec,
    and Python then never raises KeyboardInterrupt: red in the full run, green alone."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_one_ctrl_c_stops_pytest_with_its_summary(tmp_path):
    (tmp_path / "test_interrupted.py").write_text(TESTS)
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_interrupted.py"]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "started").exists():
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)  # as Ctrl-C in a terminal does, in the long fit's steps
        output, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 2, output  # pytest's "interrupted", not SIGTERM's 143 nor a finished run
    assert "KeyboardInterrupt" in output and "test_after_the_interrupt" not in output
    assert "1 passed" in output.splitlines()[-1], output  # the summary, with the failed fit's test in it
