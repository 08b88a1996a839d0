"""How training cost grows with the work: samples/s and peak memory against batch size and sequence length.

    python benchmarks/scaling.py --data_dir DATA [--json]

Every point is a short fit of the default model through rnn_lightning's fit path, in a fresh process of
its own so that its peak resident memory (ru_maxrss: Python, torch, MNIST in memory, and training) is
its own. Rows: 28 steps of 28 pixels; pixels: 784 steps of 1 (sequential MNIST). The one benchmark of
batch sizes (speedups.py fits the default's).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile

from common import StepClock, add_data_dir, fit_cli, parse, print_provenance, provenance, step_rate

POINTS = [("rows", b) for b in (32, 128, 512, 1024, 4096)] + [("pixels", b) for b in (32, 128, 512)]


def measure(data_dir: str, sequence: str, batch_size: int, samples: int) -> dict:
    """One point, in this process: about `samples` timed training samples after 3 warm-up steps."""
    warmup = 3
    steps = max(5, samples // batch_size)
    with tempfile.TemporaryDirectory() as logs:
        cli = fit_cli(
            data_dir,
            logs,
            "--data.sequence",
            sequence,
            "--data.batch_size",
            str(batch_size),
            "--trainer.max_steps",
            str(warmup + steps),
            "--trainer.enable_progress_bar",
            "false",
            "--trainer.num_sanity_val_steps",
            "0",
        )
        clock = StepClock(warmup)
        cli.trainer.callbacks.append(clock)
        cli.trainer.fit(cli.model, cli.datamodule)
    return {
        "sequence": sequence,
        "batch_size": batch_size,
        "timed_steps": steps,
        "samples_per_s": round(step_rate(clock.ends, batch_size), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir(parser)
    parser.add_argument("--samples", type=int, default=12_000, help="timed samples per rows point")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("SEQUENCE", "BATCH"), help=argparse.SUPPRESS)
    args = parse(parser)
    if args.one:  # a child process: one point, printed as JSON
        sequence, batch = args.one[0], int(args.one[1])
        samples = args.samples if sequence == "rows" else args.samples // 12  # 28x longer sequences
        print(json.dumps(measure(args.data_dir, sequence, batch, samples)))
        return
    results = []
    for sequence, batch in POINTS:
        command = [sys.executable, __file__, "--data_dir", args.data_dir, "--samples", str(args.samples)]
        output = subprocess.run(
            [*command, "--one", sequence, str(batch)], capture_output=True, text=True, check=True
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        print(results[-1], file=sys.stderr)
    if args.json:
        print(json.dumps({**provenance(), "points": results}))
        return
    print_provenance()
    print("| sequence | steps x features | batch | samples/s | peak RSS (MiB) |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        shape = "28 x 28" if r["sequence"] == "rows" else "784 x 1"
        speed, memory = f"{r['samples_per_s']:,.0f}", f"{r['peak_rss_mib']:,.0f}"
        print(f"| {r['sequence']} | {shape} | {r['batch_size']} | {speed} | {memory} |")


if __name__ == "__main__":
    main()
