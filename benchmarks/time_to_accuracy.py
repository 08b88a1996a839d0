"""Time to accuracy: the whole `fit` command of a config, as a person runs it, over several seeds.

    python benchmarks/time_to_accuracy.py --data-dir ../shared/data [--seeds 1 2 3] [--no-tuned]

For each seed it runs `python -m rnn_lightning fit --config configs/speedrun.yaml --seed_everything N` in
a fresh process and a fresh folder and prints the wall time of the whole command (start-up, reading the
data, training, every validation, the final test and its report), the test accuracy, and the seconds
from the command's start to the first validation at or above 99% (read from the TensorBoard event's
wall time). Then `tuned.yaml` once, side by side. The runs go one after the other, never two at a time.
"""

import argparse
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


def run_fit(config: str, data_dir: str, seed: int | None) -> dict:
    """One whole command in a fresh folder: its wall time, test accuracy and seconds to 99% validation."""
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
        started = time.time()
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=1800)
        wall = time.time() - started
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
        accuracy = float(re.search(r"Testing Accuracy: ([0-9.]+) \(10000", result.stdout).group(1))
        reached, best = None, None
        for events in sorted(Path(workdir).glob("lightning_logs/version_0/events.out.tfevents.*")):
            accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
            accumulator.Reload()
            if "val/acc" in accumulator.Tags()["scalars"]:
                validations = accumulator.Scalars("val/acc")
                hits = [e for e in validations if e.value >= TARGET]
                reached = (hits[0].wall_time - started, hits[0].step) if hits else None
                best = max(e.value for e in validations)
    return {"wall": wall, "test_acc": accuracy, "reached": reached, "best_val": best}


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
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-tuned", action="store_true", help="skip the tuned.yaml run (about 3 min)")
    args = parser.parse_args()

    print(f"| config | seed | whole command | test accuracy | first validation >= {TARGET:.0%} |")
    print("| --- | --- | --- | --- | --- |")
    runs = []
    for seed in args.seeds:
        run = run_fit(args.config, args.data_dir, seed)
        runs.append(run)
        print(
            f"| `{args.config}` | {seed} | {run['wall']:.1f} s | {run['test_acc']:.4f} | {describe(run)} |",
            flush=True,
        )
    walls, accuracies = [r["wall"] for r in runs], [r["test_acc"] for r in runs]
    print(
        f"| `{args.config}` | mean of {len(runs)} | {statistics.mean(walls):.1f} s (max {max(walls):.1f}) | "
        f"{statistics.mean(accuracies):.4f} (min {min(accuracies):.4f}) | |",
        flush=True,
    )
    if not args.no_tuned:
        tuned = run_fit("tuned.yaml", args.data_dir, None)
        print(
            f"| `tuned.yaml` | 1234 | {tuned['wall']:.1f} s | {tuned['test_acc']:.4f} | {describe(tuned)} |"
        )


if __name__ == "__main__":
    main()
