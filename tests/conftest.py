"""Shared fixtures: the real MNIST files from ../shared/data, and small generated IDX files."""

import contextlib
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import lightning.pytorch  # noqa: F401  (see below)
import numpy as np
import pytest

from rnn_lightning.data.datamodule import VALIDATION_SIZE

# Lightning gives its logger a handler on the stderr of the moment it is first imported. The package now
# imports it only when a command runs; imported first inside a test, that stderr would be pytest's
# capture of that test, closed afterwards ("Logging error" in the next tests). So it is imported here,
# at collection, on the real stderr, as any user's command imports it.

PROJECT = Path(__file__).resolve().parents[1]
CONFIGS = PROJECT / "configs"
REAL_DATA = Path(os.environ.get("RNN_LIGHTNING_DATA", PROJECT.parent / "shared" / "data")).resolve()


def write_idx(path: Path, array: np.ndarray) -> None:
    """Writes a uint8 array in the IDX format: magic (0, 0, 0x08, ndim), big-endian dims, raw bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_fake_mnist(
    root: Path, folder: str = "MNIST", train: int = 5300, test: int = 200, seed: int = 0
) -> Path:
    """A tiny MNIST look-alike in torchvision's layout: each class is a bright bar at its own row."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, count in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, size=count)
        images = rng.integers(0, 60, size=(count, 28, 28))
        for i, label in enumerate(labels):
            images[i, 2 + 2 * label : 4 + 2 * label, 4:24] = 255
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture
def fake_data_dir(tmp_path: Path) -> Path:
    return make_fake_mnist(tmp_path / "data")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    if not (REAL_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        pytest.skip(f"real MNIST not found in {REAL_DATA} (set RNN_LIGHTNING_DATA)")
    return REAL_DATA


@pytest.fixture(autouse=True)
def no_test_leaves_its_process_state_behind(monkeypatch):
    """Ctrl-C stops pytest with its summary, whatever a test runs in-process. The package's fit turns
    Ctrl-C into a SIGTERM that ends only that fit (`CheckpointOnInterrupt`; tests/training/test_resume.py
    tests it in a real command), so in-process it does not take Ctrl-C from pytest; and any SIGINT or SIGTERM
    handler a test leaves behind (a fit that raised skips the callback's teardown that restores its
    handler, and a later Ctrl-C then killed pytest by SIGTERM: status 143, no summary) is undone. So is
    PyTorch's thread count, which the serving app sets in-process (one thread a worker): every later
    in-process fit ran on one core, its results depending on which tests had run before. And pytest's
    own options are kept out of `sys.argv`, as no user's command has them (LightningCLI warns when it is
    given `args` and `sys.argv` holds others)."""
    import torch

    from rnn_lightning.training.interrupt import CheckpointOnInterrupt

    monkeypatch.setattr(CheckpointOnInterrupt, "on_fit_start", lambda self, trainer, pl_module: None)
    monkeypatch.setattr(sys, "argv", sys.argv[:1])
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    threads = torch.get_num_threads()
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
    torch.set_num_threads(threads)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Lightning answers Ctrl-C in a fit with `exit(1)` after a graceful shutdown; pytest would count that
    SystemExit as one failed test and go on. Raised while handling Ctrl-C's KeyboardInterrupt, it is
    turned back into one, which stops the run with its summary."""
    try:
        return (yield)
    except SystemExit as stop:
        if isinstance(stop.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from stop
        raise


FITS_ON_REAL_MNIST = ("trained_checkpoint", "fitted_run")
"""The fixtures that train on real MNIST for minutes: every test that asks for one is `slow`."""


def pytest_collection_modifyitems(config, items) -> None:
    """Marks `slow` each test that needs a fit on real MNIST (`-m 'not slow'` leaves them out); tests that
    fit on real MNIST themselves carry the mark in their file."""
    for item in items:
        if set(getattr(item, "fixturenames", ())) & set(FITS_ON_REAL_MNIST):
            item.add_marker(pytest.mark.slow)


def validation_batches(count: int) -> tuple[str, ...]:
    """Options for `count` validation batches of 128 images. Not `--trainer.limit_val_batches 1`: the CLI
    reads that as 1.0, every batch (the Trainer's `Union[int, float]` annotation comes out float-first
    once Lightning is imported: Lightning-AI/pytorch-lightning#21259), and for the 784-step configs a
    3-step test fit then validated all 5,000 held-out images, minutes. So a fraction of the 40 batches."""
    batches = math.ceil(VALIDATION_SIZE / 128)
    return ("--data.eval_batch_size", "128", "--trainer.limit_val_batches", str((count + 0.5) / batches))


QUICK_RUN = ("--trainer.enable_progress_bar", "false", *validation_batches(1), "--test_after_fit", "false")
"""What every short test fit shares: no progress bar, one validation batch (generated MNIST's epoch is 3
steps of 128, each then validated on all 5,000 held-out images), no test pass after it."""
FEW_STEPS = ("--trainer.max_steps", "3", *validation_batches(1))
"""A fit of three steps and one validation batch: enough to write every file of a run."""


def fit_args(data_dir: Path, *extra: str, config: str = "default.yaml") -> list[str]:
    """The arguments of a short test `fit` of `config` on `data_dir`, then `extra`."""
    return ["fit", "--config", str(CONFIGS / config), "--data.data_dir", str(data_dir), *QUICK_RUN, *extra]


@contextlib.contextmanager
def as_a_command(folder: Path | None = None):
    """Around `main(args)` in this process: in `folder`, with pytest's own options out of `sys.argv`
    (LightningCLI warns when it is given both `args` and a command line)."""
    before, argv = Path.cwd(), sys.argv[:]
    sys.argv[1:] = []
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
        sys.argv[:] = argv


def fit_in(folder: Path, *args: str) -> None:
    """Runs `python -m rnn_lightning ARGS` in this process, in `folder`: for fixtures that only need the
    run it writes (a subprocess would add only the interpreter's start-up)."""
    from rnn_lightning.cli.main import main

    with as_a_command(folder):
        assert main(list(args)) == 0, args


def printed_config(*args: str) -> dict:
    """What `python -m rnn_lightning ARGS --print_config` prints, parsed; run in-process (the same parser
    and defaults: a subprocess would add only the interpreter's start-up)."""
    import io

    import yaml

    from rnn_lightning.cli.main import main

    printed = io.StringIO()
    with as_a_command(), contextlib.redirect_stdout(printed), pytest.raises(SystemExit) as stop:
        main([*args, "--print_config"])
    assert stop.value.code in (0, None), printed.getvalue()
    return yaml.safe_load(printed.getvalue())


def help_text(*args: str) -> str:
    """What `python -m rnn_lightning ARGS --help` prints, in this process (the same parsers; a subprocess
    would add only the interpreter's start-up). `tests/cli/test_cli.py` runs the real command's help."""
    import io

    from rnn_lightning.cli.main import main

    printed = io.StringIO()
    with as_a_command(), contextlib.redirect_stdout(printed), pytest.raises(SystemExit) as stop:
        main([*args, "--help"])
    assert stop.value.code in (0, None), printed.getvalue()
    return printed.getvalue()


def checkpoint_weights(path: Path) -> tuple[int, dict]:
    """(global step, state dict) of a checkpoint file."""
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    return checkpoint["global_step"], checkpoint["state_dict"]


def run_cli(*args: str, cwd: Path, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """Runs `python -m rnn_lightning ARGS` as a user would, in `cwd`."""
    command = [sys.executable, "-m", "rnn_lightning", *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


@pytest.fixture
def run_here(capfd):
    """`run_cli`'s twin in this process: for tests of what a command does rather than of its process (a
    subprocess adds the interpreter's start-up: PyTorch's and Lightning's imports, docs/results.md).
    stdout and stderr are read from the file descriptors; `sys.exit` and an exception escaping the
    command end as they would in Python. Tests of start-up, signals, oneDNN's variables and stderr as a
    whole keep `run_cli`."""
    import traceback

    from rnn_lightning.cli.main import main

    def run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
        capfd.readouterr()
        try:
            with as_a_command(cwd):
                code = main(list(args))
        except SystemExit as stop:  # sys.exit(None) is status 0, sys.exit("why") 1
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        except Exception:
            traceback.print_exc()
            code = 1
        out, err = capfd.readouterr()
        result = subprocess.CompletedProcess(["python -m rnn_lightning", *args], code, out, err)
        if check and code != 0:
            raise AssertionError(f"{args} failed ({code}):\n{err[-3000:]}")
        return result

    return run


@pytest.fixture(scope="session")
def trained_checkpoint(real_data_dir, tmp_path_factory) -> Path:
    """`last.ckpt` of a model that reads digits well: one epoch of Adam on real MNIST (about 96%)."""
    workdir = tmp_path_factory.mktemp("trained")
    run_cli(
        "fit",
        "--config",
        str(CONFIGS / "default.yaml"),
        "--data.data_dir",
        str(real_data_dir),
        "--optimizer",
        "torch.optim.Adam",
        "--optimizer.lr",
        "0.005",
        "--trainer.max_steps",
        "430",
        "--trainer.enable_progress_bar",
        "false",
        "--test_after_fit",
        "false",
        cwd=workdir,
    )
    return workdir / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright, for a file's browser tests; skipped when either is missing,
    failed in CI (CI=true)."""
    import shutil

    from scripts.page_driver import CHROMIUM, FLAGS

    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[test]')"
    if missing is None and not shutil.which(CHROMIUM):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()
