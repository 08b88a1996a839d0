"""What each command prints, run as a user types it: results on stdout; on stderr only the bar, the
project's own status lines and real warnings, each held to a list of allowed lines; Lightning's start-up
lines only with `--verbose`."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rnn_lightning.serving.local_server import running_server
from tests.conftest import CONFIGS

BAR = re.compile(
    r"^(Sanity Checking|Training|Epoch \d+|Validation|Testing|Predicting)( DataLoader \d+)?: +\d*%?\|"
    r"|^(Sanity Checking|Training|Validation|Testing|Predicting): \|"
)
ALLOWED = [
    BAR,
    re.compile(r"^`Trainer\.fit` stopped: `max_steps=\d+` reached\.$"),  # Lightning's: the run's end
    re.compile(r"^Exporting \S+ \(.*\) as ONNX\.\.\.$"),  # export's own status line
    re.compile(r"^python -m rnn_lightning: precision auto: \S+ \(.*\)$"),  # what `auto` chose, and why
    re.compile(r"^python -m rnn_lightning: --ckpt_path last is \S+$"),  # which file `last` was
    re.compile(r"^python -m rnn_lightning: this run's files are in \S+/ \(README, .*\)$"),  # where to look
    re.compile(r"^python -m rnn_lightning: the predictions are also in \S+predictions\.csv$"),
]
LIGHTNING_START_UP = (
    "Seed set to ",
    "GPU available: ",
    "TPU available: ",
    "Restoring states from",
    "Loaded model",
)
ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def stderr_lines(stderr: str) -> list[str]:
    """The lines a terminal would have shown, each redraw of the bar (after `\\r`) one, blanks left out."""
    lines = (ESCAPES.sub("", part).strip() for part in re.split(r"[\r\n]", stderr))
    return [line for line in lines if line]


def unexpected(stderr: str) -> list[str]:
    return [line for line in stderr_lines(stderr) if not any(p.search(line) for p in ALLOWED)]


def run(*args: str, cwd: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m rnn_lightning ARGS` with the bar on (its default), stdout and stderr apart."""
    command = [sys.executable, "-m", "rnn_lightning", *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


SHORT = ("--trainer.log_every_n_steps", "1", "--trainer.limit_val_batches", "2")
"""Fake data has 3 training batches: a logging interval above that is a (real) warning of its own."""


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """(work folder, fake data, the fit's result): a fit of 3 steps with its test after it."""
    from tests.conftest import make_fake_mnist

    workdir = tmp_path_factory.mktemp("says")
    data = make_fake_mnist(workdir / "data")
    fit = ["fit", "--config", str(CONFIGS / "default.yaml"), "--data.data_dir", str(data)]
    result = run(*fit, *SHORT, "--trainer.max_steps", "3", cwd=workdir)
    return workdir, data, result


def evaluate(fitted, subcommand: str, *extra: str, verbose: bool = False) -> subprocess.CompletedProcess:
    workdir, data, _ = fitted
    config = workdir / "lightning_logs" / "version_0" / "config.yaml"
    args = [subcommand, "--config", str(config), "--data.data_dir", str(data), "--ckpt_path", "last", *extra]
    return run(*(["--verbose"] if verbose else []), *args, cwd=workdir)


def test_fit_says_the_tutorials_lines_and_nothing_of_lightnings(fitted):
    result = fitted[2]
    assert unexpected(result.stderr) == []
    assert not any(line.startswith(LIGHTNING_START_UP) for line in stderr_lines(result.stderr))
    assert "Total params" not in result.stderr and "Total Flops" not in result.stderr  # no model summary
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Step 1, ") and lines[1].startswith("Step 3, ")  # the final step too
    assert re.fullmatch(r"Testing Accuracy: 0\.\d{4} \(200 test images\)", lines[-2])  # all the fake ones
    assert re.fullmatch(r"Testing Accuracy: 0\.\d{4} \(first 128 test images, as the tutorial\)", lines[-1])
    # the stop line on a line of its own, not glued to the end of the bar
    assert re.search(r"(^|\n)`Trainer\.fit` stopped: `max_steps=3` reached\.\n", result.stderr)


def test_each_command_ends_naming_where_its_files_are(fitted):
    """The run's folder (predict: its predictions.csv), the last line on stderr: a newcomer need not
    guess at lightning_logs/version_N."""
    fit_says = stderr_lines(fitted[2].stderr)[-1]
    folder = Path("lightning_logs") / "version_0"
    assert fit_says.startswith(f"python -m rnn_lightning: this run's files are in {folder}{os.sep} (README")
    validated = stderr_lines(evaluate(fitted, "validate").stderr)[-1]
    assert re.fullmatch(
        r"python -m rnn_lightning: this run's files are in lightning_logs.version_\d+. .*", validated
    )
    predicted = stderr_lines(evaluate(fitted, "predict", "--trainer.limit_predict_batches", "1").stderr)[-1]
    written = re.fullmatch(r"python -m rnn_lightning: the predictions are also in (\S+)", predicted)
    assert written and (fitted[0] / written[1]).is_file()


def test_fit_writes_no_hp_metric_to_tensorboard(fitted):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folder = fitted[0] / "lightning_logs" / "version_0"
    tags = set()
    for events in folder.glob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags |= set(accumulator.Tags()["scalars"])
    assert "val/acc" in tags and "hp_metric" not in tags


def test_test_prints_the_tutorials_lines_not_lightnings_table(fitted):
    result = evaluate(fitted, "test", "--trainer.limit_test_batches", "2", "--data.eval_batch_size", "50")
    assert unexpected(result.stderr) == []
    assert result.stdout.splitlines() == [
        line for line in result.stdout.splitlines() if line.startswith("Testing Accuracy: ")
    ]
    first, tutorial = result.stdout.splitlines()
    assert re.fullmatch(r"Testing Accuracy: 0\.\d{4} \(100 test images\)", first)  # what it measured
    assert tutorial.endswith("(first 128 test images, as the tutorial)")
    # which file `last` was, on stderr and in the test's own config.yaml (rerun, it tests the same one)
    trained = str(Path("lightning_logs") / "version_0" / "checkpoints" / "last.ckpt")
    assert f"python -m rnn_lightning: --ckpt_path last is {trained}" in stderr_lines(result.stderr)
    runs = sorted((fitted[0] / "lightning_logs").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))
    assert yaml.safe_load((runs[-1] / "config.yaml").read_text())["ckpt_path"] == trained


def test_validate_prints_its_own_line(fitted):
    result = evaluate(fitted, "validate")
    assert unexpected(result.stderr) == []
    assert re.fullmatch(r"Validation Accuracy: 0\.\d{4} \(256 validation images\)\n", result.stdout)


def test_verbose_brings_back_lightnings_lines(fitted):
    result = evaluate(fitted, "validate", verbose=True)
    shown = stderr_lines(result.stderr)
    for start in ("Seed set to 1234", "GPU available: ", "Restoring states from", "Loaded model weights"):
        assert any(line.startswith(start) for line in shown), (start, shown)
    assert "Validate metric" in result.stdout  # Lightning's table
    assert "Validation Accuracy: " in result.stdout


def test_the_top_help_keeps_its_commands_on_one_line_each_and_names_verbose():
    """argparse refills a description; the first commands a newcomer copies must stay whole lines."""
    from tests.conftest import help_text

    lines = help_text().splitlines()
    commands = {line.strip().split("   ")[0] for line in lines}  # each command, without its note
    for command in (
        "fit --config configs/default.yaml --trainer.max_steps 1000",
        "fit --config configs/default.yaml",
        "--verbose SUBCOMMAND ...",
    ):
        assert f"python -m rnn_lightning {command}" in commands, (command, lines[:20])


@pytest.mark.parametrize("subcommand", ["fit", "validate", "test", "predict"])
def test_a_subcommands_help_says_what_it_does_on_its_first_screen(subcommand):
    from rnn_lightning.cli.lightning_cli import SUBCOMMANDS
    from tests.conftest import help_text

    first_screen = help_text(subcommand).splitlines()[:5]
    assert first_screen[0] == f"usage: python -m rnn_lightning [options] {subcommand} [options]"
    assert SUBCOMMANDS[subcommand] in first_screen, first_screen


def test_predict_says_only_its_answers(fitted):
    result = evaluate(fitted, "predict", "--trainer.limit_predict_batches", "2")
    assert unexpected(result.stderr) == []
    assert all(re.fullmatch(r"test/\d+ \d 0\.\d{4}", line) for line in result.stdout.splitlines())


def test_export_says_one_status_line(fitted):
    workdir = fitted[0]
    result = run("export", "--ckpt_path", "last", "--output", str(workdir / "model.onnx"), cwd=workdir)
    assert unexpected(result.stderr) == [] and len(stderr_lines(result.stderr)) == 1
    assert result.stdout.startswith("Wrote ")


def test_serve_starts_with_nothing_on_stderr(fitted):
    workdir = fitted[0]
    with running_server("last", workdir, "--workers", "1", stop=signal.SIGINT) as (_base, process):
        pass
    stdout, stderr = process.communicate(timeout=60)
    assert stderr_lines(stderr) == [], stderr
    assert stdout.startswith("Serving ")
