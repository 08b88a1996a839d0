"""What the benchmark scripts share: the project folder, the `--data_dir` option, the line naming the
processor and the commit that every script prints with its figures, the CLI-built fit path of a config,
the whole `fit` command timed, one step clock, and a small HTTP client for the serving benchmark. It
imports only the standard library until a helper needs more (command_phases.py times the imports)."""

import argparse
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # the checkout's package, whatever is installed
DATA_VARIABLE = "RNN_LIGHTNING_DATA"


def add_data_dir(parser: argparse.ArgumentParser, required: bool = True, purpose: str = "") -> None:
    """`--data_dir` (the package's spelling, as in `--data.data_dir`; the scripts' earlier hyphenated one
    still read): the folder holding MNIST/raw/, by default the one in $RNN_LIGHTNING_DATA."""
    parser.add_argument(
        "--data_dir",
        "--data-dir",
        default=os.environ.get(DATA_VARIABLE),
        help=f"folder holding MNIST/raw/ (default: ${DATA_VARIABLE}){purpose}",
    )
    parser.set_defaults(_data_dir_required=required)


def add_config(parser: argparse.ArgumentParser, default: str = "speedrun.yaml") -> None:
    """`--config`: the config a script measures, a file name in configs/."""
    parser.add_argument("--config", default=default, help=f"a file name in configs/ (default: {default})")


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The script's arguments; a data folder required and given nowhere is one line and exit status 2."""
    args = parser.parse_args()
    if getattr(args, "_data_dir_required", False) and not args.data_dir:
        parser.error(f"give the folder holding MNIST/raw/ with --data_dir DIR or ${DATA_VARIABLE}=DIR")
    return args


def processor() -> str:
    """`lscpu`'s model name, the cores, and whether the CPU has bf16 matrix units (AMX) or bf16 vector
    instructions (AVX-512 BF16): bf16 results differ between processors."""
    info = ""
    if shutil.which("lscpu"):
        info = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    name = re.search(r"^Model name:\s*(.+)$", info, re.MULTILINE)
    flags = re.search(r"^Flags:\s*(.+)$", info, re.MULTILINE)
    flags = set(flags.group(1).split()) if flags else set()
    units = [f"{flag}: {'yes' if flag in flags else 'no'}" for flag in ("avx512_bf16", "amx_bf16")]
    if limit := os.environ.get("ONEDNN_MAX_CPU_ISA"):  # oneDNN told to act as on a lesser CPU
        units.append(f"oneDNN limited to {limit}")
    return f"{name.group(1).strip() if name else 'unknown'}, {os.cpu_count()} cores, {', '.join(units)}"


def commit() -> str:
    """The checkout's short commit (with `+changes` when files differ from it), or `unknown` outside a
    git clone."""

    def git(*args: str) -> str:
        options = {"cwd": PROJECT, "capture_output": True, "text": True, "check": True, "timeout": 30}
        return subprocess.run(["git", *args], **options).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+changes" if dirty else head or "unknown"


def provenance() -> dict:
    """The processor and commit, for a script's JSON output."""
    return {"processor": processor(), "commit": commit()}


def print_provenance() -> None:
    """The line that goes with every figure: where and on what code it was measured."""
    print(f"Processor: {processor()}; commit {commit()}\n", flush=True)


def fit_cli(data_dir: str, logs: str, *overrides: str, config: str = "default.yaml"):
    """`python -m rnn_lightning fit --config configs/CONFIG`, built but not run; it logs to `logs`."""
    from rnn_lightning.cli.lightning_cli import build_cli

    arguments = ["--config", str(PROJECT / "configs" / config), "--data.data_dir", data_dir]
    arguments += ["--trainer.logger.init_args.save_dir", logs, *overrides]
    return build_cli(arguments, run=False)


def run_fit(config: str, data_dir: str, seed: int | None, *extra: str) -> dict:
    """The whole `python -m rnn_lightning fit --config configs/CONFIG` command as a person types it, in a
    fresh process and folder, `extra` options added: its wall time, test accuracy (on the whole test set,
    MNIST's 10,000 images, and on the first 128), and when validation first reached 99% (from the
    TensorBoard events)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with tempfile.TemporaryDirectory() as workdir:
        command = [
            sys.executable,
            "-m",
            "rnn_lightning",
            "fit",
            "--config",
            str(PROJECT / "configs" / config),
        ]
        command += ["--data.data_dir", str(Path(data_dir).resolve())]
        if seed is not None:
            command += ["--seed_everything", str(seed)]
        command += extra
        environment = {**os.environ, "PYTHONPATH": str(PROJECT)}
        started = time.time()
        result = subprocess.run(
            command, cwd=workdir, capture_output=True, text=True, timeout=1800, env=environment
        )
        wall = time.time() - started
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
        accuracy = float(re.search(r"Testing Accuracy: ([0-9.]+) \(\d+ test images", result.stdout).group(1))
        first_128 = float(re.search(r"Testing Accuracy: ([0-9.]+) \(first 128", result.stdout).group(1))
        reached, best = None, None
        for events in sorted(Path(workdir).glob("lightning_logs/version_0/events.out.tfevents.*")):
            accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
            accumulator.Reload()
            if "val/acc" in accumulator.Tags()["scalars"]:
                validations = accumulator.Scalars("val/acc")
                hits = [e for e in validations if e.value >= 0.99]
                reached = (hits[0].wall_time - started, hits[0].step) if hits else None
                best = max(e.value for e in validations)
    return {"wall": wall, "test_acc": accuracy, "first_128": first_128, "reached": reached, "best_val": best}


def synchronize(device) -> None:
    """Waits for the GPU's queued work, so that a clock reading means the work is done."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_periods(ends: list[float | None]) -> list[float]:
    """The seconds of each training step, never a period across a gap."""
    return [b - a for a, b in itertools.pairwise(ends) if a is not None and b is not None]


def step_rate(ends: list[float | None], batch_size: int) -> float:
    """Samples/s from the median step period: a burst of load from elsewhere on a shared 2-core machine
    slows a few steps of one path; the median ignores those and the mean would not."""
    return batch_size / statistics.median(step_periods(ends))


def __getattr__(name: str):
    """`StepClock` is a Lightning callback: Lightning is imported when a script first asks for it."""
    if name != "StepClock":
        raise AttributeError(f"module 'common' has no attribute {name!r}")
    import lightning as L

    class StepClock(L.Callback):
        """The time of the end of every training step from step `warmup` on, with a gap (None) across each
        validation: the one step clock of these scripts."""

        def __init__(self, warmup: int) -> None:
            self.warmup, self.ends = warmup, []

        def on_train_batch_end(self, trainer, *args) -> None:
            if trainer.global_step >= self.warmup:
                synchronize(trainer.strategy.root_device)
                self.ends.append(time.perf_counter())

        def on_validation_start(self, trainer, pl_module) -> None:
            if self.ends and not trainer.sanity_checking:
                self.ends.append(None)  # a gap: the period across a validation is not a training step

    globals()["StepClock"] = StepClock
    return StepClock
