"""Time to accuracy: the whole `fit` command of a config, as a person runs it, over several seeds.

    python benchmarks/time_to_accuracy.py --data_dir DATA [--seeds 1 2 3] [--tuned] [--precision 32-true]
        [--against="--data.batch_size 192 --trainer.max_steps 1722"] [--bare-steps 429]

For seeds 1-10 and then the config's own seed (the command as typed) it runs `python -m rnn_lightning fit
--config configs/speedrun.yaml --seed_everything N` in a fresh process and a fresh folder and prints the
wall time of the whole command (start-up, reading the data, training, every validation, the final test
and its report), the test accuracy, and the seconds from the command's start to the first validation at
or above 99% (read from the TensorBoard event's wall time); then the distribution over the runs, after
the processor and commit it ran on (bf16 results differ between processors). `--against OPTIONS`
(repeatable) runs the same command with those options added right after each seed's run as typed, so
that the variants sample the same moments of a shared machine, and prints each one's distribution and
its mean time against the config's. `--tuned` adds `tuned.yaml` once. The runs go one after the other,
never two at a time.

Each command is also measured in bare epochs: the time a bare fp32 PyTorch loop of the tutorial's model
(nn.LSTM(28, 128) and its linear head, SGD, batch 128: throughput.py's `BareLoop`) takes for 55,000
samples on the same machine, measured in this process before the first seed, between seeds and after
the last, so that each command is set against the bare epochs just before and after it (their mean):
a shared machine's speed drifts, and the ratio is what compares processors. `--bare-steps` times fewer
steps (scaled to 55,000 samples) for a quick try.
"""

import argparse
import shlex
import statistics
import time
from pathlib import Path

from common import add_config, add_data_dir, parse, print_provenance, run_fit

TARGET = 0.99  # the accuracy `run_fit` times the first validation at
EPOCH_SAMPLES = 55_000  # MNIST's training images less the 5,000 held out for validation
BARE_BATCH = 128
WARMUP_STEPS = 20  # oneDNN builds its kernels in the first steps


class BareEpoch:
    """The bare fp32 loop of throughput.py, built once on this machine's MNIST and warmed up; `measure()`
    times `steps` more of its steps and returns the seconds they take for 55,000 samples."""

    def __init__(self, data_dir: str, steps: int) -> None:
        import torch
        from throughput import BareLoop

        from rnn_lightning.data.datamodule import MNISTDataModule

        datamodule = MNISTDataModule(data_dir=data_dir, batch_size=BARE_BATCH)
        datamodule.setup("fit")
        self.loop, self.steps = BareLoop(datamodule, torch.device("cpu"), BARE_BATCH), steps
        self.loop.run(WARMUP_STEPS)
        self.seconds: list[float] = []

    def measure(self) -> float:
        started = time.perf_counter()
        self.loop.run(self.steps)
        seconds = (time.perf_counter() - started) * EPOCH_SAMPLES / (self.steps * BARE_BATCH)
        self.seconds.append(seconds)
        return seconds


def in_bare_epochs(wall: float, before: float, after: float) -> float:
    """A command's wall time in bare epochs: against the mean of the bare epochs measured either side."""
    return wall / ((before + after) / 2)


def describe(run: dict) -> str:
    if run["reached"]:
        return f"{run['reached'][0]:.1f} s (step {run['reached'][1]})"
    return "never" if run["best_val"] is None else f"never (best {run['best_val']:.4f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir(parser)
    add_config(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)), help="default: 1-10")
    parser.add_argument("--no-own-seed", action="store_true", help="skip the run with the config's own seed")
    parser.add_argument("--tuned", action="store_true", help="also run tuned.yaml once (about 4 min)")
    parser.add_argument(
        "--precision",
        help="the Trainer's precision instead of the config's (32-true, bf16-mixed, auto): per CPU",
    )
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="OPTIONS",
        help="fit options of a variant run beside every seed's (repeatable), given with '=' since they "
        "start with '--': --against='--data.batch_size 192'",
    )
    parser.add_argument(
        "--bare-steps",
        type=int,
        default=EPOCH_SAMPLES // BARE_BATCH,
        help="steps of the bare loop timed for each bare epoch, scaled to 55,000 samples (default: "
        "%(default)s, one epoch)",
    )
    parser.add_argument(
        "--options",
        default="",
        metavar="OPTIONS",
        help="fit options added to every run, the config's as typed too (a quick try: "
        "--options='--trainer.max_steps 20 --trainer.val_check_interval 20'); default: none",
    )
    args = parse(parser)
    if not (Path(args.data_dir) / "MNIST" / "raw").is_dir():
        parser.error(f"no MNIST/raw/ folder in {args.data_dir}: give the folder that holds it")
    typed = ["--trainer.precision", args.precision] if args.precision else []
    typed += shlex.split(args.options)
    variants = {"as typed": typed, **{options: [*typed, *shlex.split(options)] for options in args.against}}

    print_provenance()
    if typed:
        print(f"options of every run: {shlex.join(typed)}\n")
    bare = BareEpoch(args.data_dir, args.bare_steps)
    print(f"bare epoch before the first seed: {bare.measure():.2f} s\n", flush=True)
    print(
        f"| config | options | seed | whole command | bare epochs | test accuracy "
        f"| first validation >= {TARGET:.0%} |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    runs = {name: [] for name in variants}
    for seed in [*args.seeds, *([] if args.no_own_seed else [None])]:
        seed_runs = [
            (name, run_fit(args.config, args.data_dir, seed, *options)) for name, options in variants.items()
        ]
        before, after = bare.seconds[-1], bare.measure()
        for name, run in seed_runs:
            run["bare_epochs"] = in_bare_epochs(run["wall"], before, after)
            runs[name].append(run)
            shown = seed if seed is not None else "own"
            print(
                f"| `{args.config}` | {name} | {shown} | {run['wall']:.1f} s | {run['bare_epochs']:.2f} "
                f"| {run['test_acc']:.4f} | {describe(run)} |",
                flush=True,
            )
        print(f"bare epoch after seed {shown}: {after:.2f} s", flush=True)
    print()
    epochs = bare.seconds
    print(
        f"bare epoch (fp32 LSTM 128, SGD, batch 128, {EPOCH_SAMPLES:,} samples), {len(epochs)} measurements: "
        f"{min(epochs):.2f}-{max(epochs):.2f} s (mean {statistics.mean(epochs):.2f} s)"
    )
    for name, variant_runs in runs.items():
        walls, accuracies = [r["wall"] for r in variant_runs], [r["test_acc"] for r in variant_runs]
        ratios = [r["bare_epochs"] for r in variant_runs]
        under = sum(accuracy < TARGET for accuracy in accuracies)
        ratio = statistics.mean(walls) / statistics.mean(r["wall"] for r in runs["as typed"])
        print(
            f"{name}: {len(variant_runs)} runs: test accuracy min {min(accuracies):.2%}, "
            f"mean {statistics.mean(accuracies):.2%}, max {max(accuracies):.2%}, {under} under {TARGET:.0%}; "
            f"whole command {min(walls):.1f}-{max(walls):.1f} s (mean {statistics.mean(walls):.1f} s, "
            f"{ratio:.2f}x the config's as typed); {min(ratios):.2f}-{max(ratios):.2f} bare epochs "
            f"(mean {statistics.mean(ratios):.2f})"
        )
    if args.tuned:
        tuned = run_fit("tuned.yaml", args.data_dir, None)
        print(
            f"\n`tuned.yaml`, its own seed: {tuned['wall']:.1f} s, {tuned['test_acc']:.4f}, {describe(tuned)}"
        )


if __name__ == "__main__":
    main()
