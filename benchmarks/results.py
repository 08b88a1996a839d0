"""The README's results table: each config's whole `fit` command, timed, with its test accuracy.

    python benchmarks/results.py --data-dir ../shared/data [--only default tuned]

Each command runs as a person types it (progress bar off), in a fresh process and folder, one after
the other; it prints one table row per config with the command, the whole command's wall time, and the
test accuracy on the 10,000 test images and on the first 128 (the tutorial's figure). Fashion-MNIST
is read from `data/` (`bash benchmarks/fashion_data.sh` puts it there); it is skipped when missing.
"""

import argparse
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
RUNS = {  # name: (config, extra options shown in the table)
    "default": ("default.yaml", []),
    "tuned": ("tuned.yaml", []),
    "fashion": ("fashion.yaml", []),
    "pixels": ("pixels.yaml", ["--trainer.max_steps", "300"]),
    "permuted": ("permuted.yaml", ["--trainer.max_steps", "300"]),
}


def run(config: str, extra: list[str], data_dir: Path) -> tuple[float, str, str]:
    with tempfile.TemporaryDirectory() as workdir:
        command = [
            sys.executable,
            "-m",
            "rnn_lightning",
            "fit",
            "--config",
            str(PROJECT / "configs" / config),
        ]
        command += ["--trainer.enable_progress_bar", "false", *extra, "--data.data_dir", str(data_dir)]
        started = time.time()
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=3600)
        wall = time.time() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    whole = re.search(r"Testing Accuracy: ([0-9.]+) \(10000", result.stdout).group(1)
    first = re.search(r"Testing Accuracy: ([0-9.]+) \(first 128", result.stdout).group(1)
    return wall, whole, first


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(PROJECT.parent / "shared" / "data"))
    slow = "pixels and permuted take long on a CPU"
    parser.add_argument("--only", nargs="+", choices=list(RUNS), default=["default", "tuned", "fashion"],
                        help=f"configs to run (default: default tuned fashion; {slow})")  # fmt: skip
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    print(f"commit {commit}, {platform.machine()}, {sys.version.split()[0]}\n")
    print("| config | command | whole command | test accuracy | first 128 |\n| --- | --- | --- | --- | --- |")
    for name in args.only:
        config, extra = RUNS[name]
        data_dir = PROJECT / "data" if name == "fashion" else Path(args.data_dir).resolve()
        if name == "fashion" and not (data_dir / "FashionMNIST" / "raw").is_dir():
            print(f"| `{config}` | skipped: run `bash benchmarks/fashion_data.sh` first | | | |", flush=True)
            continue
        wall, whole, first = run(config, extra, data_dir)
        shown = " ".join(["python -m rnn_lightning fit --config", f"configs/{config}", *extra])
        print(f"| `{config}` | `{shown}` | {wall:.0f} s | {whole} | {first} |", flush=True)


if __name__ == "__main__":
    main()
