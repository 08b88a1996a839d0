"""Time to accuracy: the whole `fit` command of a config, as a person runs it, over several seeds.

    python benchmarks/time_to_accuracy.py --data-dir DATA [--seeds 1 2 3] [--tuned] [--precision 32-true]

For seeds 1-10 and then the config's own seed (the command as typed) it runs `python -m rnn_lightning fit
--config configs/speedrun.yaml --seed_everything N` in a fresh process and a fresh folder and prints the
wall time of the whole command (start-up, reading the data, training, every validation, the final test
and its report), the test accuracy, and the seconds from the command's start to the first validation at
or above 99% (read from the TensorBoard event's wall time); then the distribution over the runs, after
the processor and commit it ran on (bf16 results differ between processors). `--tuned` adds
`tuned.yaml` once. The runs go one after the other, never two at a time.
"""

import argparse
import statistics

from common import add_data_dir, parse, print_provenance, run_fit

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
    parser.add_argument("--config", default="speedrun.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    parser.add_argument("--no-own-seed", action="store_true", help="skip the run with the config's own seed")
    parser.add_argument("--tuned", action="store_true", help="also run tuned.yaml once (about 4 min)")
    parser.add_argument(
        "--precision", help="the Trainer's precision instead of the config's (32-true, bf16-mixed): per CPU"
    )
    args = parse(parser)
    extra = ["--trainer.precision", args.precision] if args.precision else []

    print_provenance()
    if args.precision:
        print(f"precision: {args.precision} (--trainer.precision)\n")
    print(f"| config | seed | whole command | test accuracy | first validation >= {TARGET:.0%} |")
    print("| --- | --- | --- | --- | --- |")
    runs = []
    for seed in [*args.seeds, *([] if args.no_own_seed else [None])]:
        run = run_fit(args.config, args.data_dir, seed, *extra)
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
