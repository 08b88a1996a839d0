"""Time to accuracy: the whole `fit` command of a config, as a person runs it, over several seeds.

    python benchmarks/time_to_accuracy.py --data-dir DATA [--seeds 1 2 3] [--tuned] [--precision 32-true]
        [--against="--data.batch_size 192 --trainer.max_steps 1722"]

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
"""

import argparse
import shlex
import statistics
from pathlib import Path

from common import add_config, add_data_dir, parse, print_provenance, run_fit

TARGET = 0.99  # the accuracy `run_fit` times the first validation at


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
        "--precision", help="the Trainer's precision instead of the config's (32-true, bf16-mixed): per CPU"
    )
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="OPTIONS",
        help="fit options of a variant run beside every seed's (repeatable), given with '=' since they "
        "start with '--': --against='--data.batch_size 192'",
    )
    args = parse(parser)
    if not (Path(args.data_dir) / "MNIST" / "raw").is_dir():
        parser.error(f"no MNIST/raw/ folder in {args.data_dir}: give the folder that holds it")
    typed = ["--trainer.precision", args.precision] if args.precision else []
    variants = {"as typed": typed, **{options: [*typed, *shlex.split(options)] for options in args.against}}

    print_provenance()
    if args.precision:
        print(f"precision: {args.precision} (--trainer.precision)\n")
    print(f"| config | options | seed | whole command | test accuracy | first validation >= {TARGET:.0%} |")
    print("| --- | --- | --- | --- | --- | --- |")
    runs = {name: [] for name in variants}
    for seed in [*args.seeds, *([] if args.no_own_seed else [None])]:
        for name, options in variants.items():
            run = run_fit(args.config, args.data_dir, seed, *options)
            runs[name].append(run)
            shown = seed if seed is not None else "own"
            print(
                f"| `{args.config}` | {name} | {shown} | {run['wall']:.1f} s | {run['test_acc']:.4f} "
                f"| {describe(run)} |",
                flush=True,
            )
    print()
    for name, variant_runs in runs.items():
        walls, accuracies = [r["wall"] for r in variant_runs], [r["test_acc"] for r in variant_runs]
        under = sum(accuracy < TARGET for accuracy in accuracies)
        ratio = statistics.mean(walls) / statistics.mean(r["wall"] for r in runs["as typed"])
        print(
            f"{name}: {len(variant_runs)} runs: test accuracy min {min(accuracies):.2%}, "
            f"mean {statistics.mean(accuracies):.2%}, max {max(accuracies):.2%}, {under} under {TARGET:.0%}; "
            f"whole command {min(walls):.1f}-{max(walls):.1f} s (mean {statistics.mean(walls):.1f} s, "
            f"{ratio:.2f}x the config's as typed)"
        )
    if args.tuned:
        tuned = run_fit("tuned.yaml", args.data_dir, None)
        print(
            f"\n`tuned.yaml`, its own seed: {tuned['wall']:.1f} s, {tuned['test_acc']:.4f}, {describe(tuned)}"
        )


if __name__ == "__main__":
    main()
