"""Time to accuracy: the whole `fit` command of a config, as a person runs it, over several seeds.

    python benchmarks/time_to_accuracy.py --data-dir ../shared/data [--seeds 1 2 3] [--tuned]

For seeds 1-10 and then the config's own seed (the command as typed) it runs `python -m rnn_lightning fit
--config configs/speedrun.yaml --seed_everything N` in a fresh process and a fresh folder and prints the
wall time of the whole command (start-up, reading the data, training, every validation, the final test
and its report), the test accuracy, and the seconds from the command's start to the first validation at
or above 99% (read from the TensorBoard event's wall time); then the distribution over the runs and the
processor it ran on (bf16 results differ between processors). `--tuned` adds `tuned.yaml` once. The runs
go one after the other, never two at a time.
"""

import argparse
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

PROJECT = Path(__file__).resolve().parents[1]
TARGET = 0.99


def run_fit(config: str, data_dir: str, seed: int | None, *extra: str) -> dict:
    """One whole command in a fresh folder, `extra` options added: its wall time, test accuracy (on the
    10,000 test images and on the first 128) and seconds to 99% validation."""
    with tempfile.TemporaryDirectory() as workdir:
        command = [
            sys.executable,
            "-m",
            "rnn_lightning",
            "fit",
            "--config",
            str(PROJECT / "configs" / config),
        ]
        # The command as a person types it, progress bar included; only the data folder and seed are added.
        command += ["--data.data_dir", str(Path(data_dir).resolve())]
        if seed is not None:
            command += ["--seed_everything", str(seed)]
        command += extra
        started = time.time()
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=1800)
        wall = time.time() - started
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
        accuracy = float(re.search(r"Testing Accuracy: ([0-9.]+) \(10000", result.stdout).group(1))
        first_128 = float(re.search(r"Testing Accuracy: ([0-9.]+) \(first 128", result.stdout).group(1))
        reached, best = None, None
        for events in sorted(Path(workdir).glob("lightning_logs/version_0/events.out.tfevents.*")):
            accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
            accumulator.Reload()
            if "val/acc" in accumulator.Tags()["scalars"]:
                validations = accumulator.Scalars("val/acc")
                hits = [e for e in validations if e.value >= TARGET]
                reached = (hits[0].wall_time - started, hits[0].step) if hits else None
                best = max(e.value for e in validations)
    return {"wall": wall, "test_acc": accuracy, "first_128": first_128, "reached": reached, "best_val": best}


def processor() -> str:
    """The processor's model name and whether it has bf16 matrix units (Intel AMX) or bf16 vector ones."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    name = re.search(r"model name\s*:\s*(.+)", info)
    flags = set(re.search(r"flags\s*:\s*(.+)", info).group(1).split()) if "flags" in info else set()
    units = (
        "bf16 matrix units (AMX)"
        if "amx_bf16" in flags
        else ("bf16 vector instructions (AVX-512 BF16)" if "avx512_bf16" in flags else "no bf16 hardware")
    )
    cores = len(re.findall(r"^processor", info, re.MULTILINE))
    return f"{name.group(1) if name else platform.machine()}, {cores} cores, {units}"


def describe(run: dict) -> str:
    if run["reached"]:
        return f"{run['reached'][0]:.1f} s (step {run['reached'][1]})"
    return "never" if run["best_val"] is None else f"never (best {run['best_val']:.4f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(PROJECT.parent / "shared" / "data"))
    parser.add_argument("--config", default="speedrun.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    parser.add_argument("--no-own-seed", action="store_true", help="skip the run with the config's own seed")
    parser.add_argument("--tuned", action="store_true", help="also run tuned.yaml once (about 4 min)")
    args = parser.parse_args()

    print(f"Processor: {processor()}\n")
    print(f"| config | seed | whole command | test accuracy | first validation >= {TARGET:.0%} |")
    print("| --- | --- | --- | --- | --- |")
    runs = []
    for seed in [*args.seeds, *([] if args.no_own_seed else [None])]:
        run = run_fit(args.config, args.data_dir, seed)
        runs.append(run)
        shown = seed if seed is not None else "own"
        print(
            f"| `{args.config}` | {shown} | {run['wall']:.1f} s | {run['test_acc']:.4f} | {describe(run)} |",
            flush=True,
        )
    walls, accuracies = [r["wall"] for r in runs], [r["test_acc"] for r in runs]
    under = sum(accuracy < TARGET for accuracy in accuracies)
    print(
        f"\n{len(runs)} runs: test accuracy min {min(accuracies):.2%}, "
        f"mean {statistics.mean(accuracies):.2%}, max {max(accuracies):.2%}, {under} under {TARGET:.0%}; "
        f"whole command {min(walls):.1f}-{max(walls):.1f} s (mean {statistics.mean(walls):.1f} s)"
    )
    if args.tuned:
        tuned = run_fit("tuned.yaml", args.data_dir, None)
        print(
            f"\n`tuned.yaml`, its own seed: {tuned['wall']:.1f} s, {tuned['test_acc']:.4f}, {describe(tuned)}"
        )


if __name__ == "__main__":
    main()
