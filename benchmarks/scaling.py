"""How training cost grows with the work: samples/s and peak memory against batch size and sequence length.

    python benchmarks/scaling.py --data-dir ../shared/data [--json]

Every point is a short fit of the default model through rnn_lightning's fit path, in a fresh process of
its own so that its peak resident memory (ru_maxrss: Python, torch, MNIST in memory, and training) is
its own. Rows: 28 steps of 28 pixels; pixels: 784 steps of 1 (sequential MNIST).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightning as L

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

POINTS = [("rows", b) for b in (32, 128, 512, 1024, 4096)] + [("pixels", b) for b in (32, 128, 512)]


class StepTimer(L.Callback):
    """Seconds from the end of the warm-up steps to the end of the last step."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end = warmup, 0.0, 0.0

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()
        self.end = time.perf_counter()


def measure(data_dir: str, sequence: str, batch_size: int, samples: int) -> dict:
    """One point, in this process: about `samples` timed training samples after 3 warm-up steps."""
    from rnn_lightning.cli import build_cli

    warmup = 3
    steps = max(5, samples // batch_size)
    with tempfile.TemporaryDirectory() as logs:
        cli = build_cli(
            [
                "--config",
                str(PROJECT / "configs" / "default.yaml"),
                "--data.data_dir",
                data_dir,
                "--data.sequence",
                sequence,
                "--data.batch_size",
                str(batch_size),
                "--trainer.max_steps",
                str(warmup + steps),
                "--trainer.logger.init_args.save_dir",
                logs,
                "--trainer.enable_progress_bar",
                "false",
                "--trainer.num_sanity_val_steps",
                "0",
            ],
            run=False,
        )
        timer = StepTimer(warmup)
        cli.trainer.callbacks.append(timer)
        cli.trainer.fit(cli.model, cli.datamodule)
    return {
        "sequence": sequence,
        "batch_size": batch_size,
        "timed_steps": steps,
        "samples_per_s": round(steps * batch_size / (timer.end - timer.start), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(PROJECT.parent / "shared" / "data"))
    parser.add_argument("--samples", type=int, default=12_000, help="timed samples per rows point")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("SEQUENCE", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a child process: one point, printed as JSON
        sequence, batch = args.one[0], int(args.one[1])
        samples = args.samples if sequence == "rows" else args.samples // 12  # 28x longer sequences
        print(json.dumps(measure(args.data_dir, sequence, batch, samples)))
        return
    results = []
    for sequence, batch in POINTS:
        command = [sys.executable, __file__, "--data-dir", args.data_dir, "--samples", str(args.samples)]
        output = subprocess.run(
            [*command, "--one", sequence, str(batch)], capture_output=True, text=True, check=True
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        print(results[-1], file=sys.stderr)
    if args.json:
        print(json.dumps(results))
        return
    print("\n| sequence | steps x features | batch | samples/s | peak RSS (MiB) |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        shape = "28 x 28" if r["sequence"] == "rows" else "784 x 1"
        speed, memory = f"{r['samples_per_s']:,.0f}", f"{r['peak_rss_mib']:,.0f}"
        print(f"| {r['sequence']} | {shape} | {r['batch_size']} | {speed} | {memory} |")


if __name__ == "__main__":
    main()
