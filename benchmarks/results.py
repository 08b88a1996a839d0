"""The README's results table: each config's whole `fit` command, timed, with its test accuracy.

    python benchmarks/results.py --data_dir DATA [--only default tuned]

Each command runs as a person types it (progress bar off), in a fresh process and folder, one after
the other; it prints one table row per config with the command, the whole command's wall time, and the
test accuracy on the 10,000 test images and on the first 128 (the tutorial's figure), after the processor
and commit. Fashion-MNIST is read from `data/` (`bash scripts/fashion_data.sh` puts it there); it is
skipped when missing.
"""

import argparse
from pathlib import Path

from common import PROJECT, add_data_dir, parse, print_provenance, run_fit

RUNS = {  # name: (config, extra options shown in the table)
    "default": ("default.yaml", []),
    "tuned": ("tuned.yaml", []),
    "fashion": ("fashion.yaml", []),
    "pixels": ("pixels.yaml", ["--trainer.max_steps", "300"]),
    "permuted": ("permuted.yaml", ["--trainer.max_steps", "300"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir(parser)
    slow = "pixels and permuted take long on a CPU"
    parser.add_argument("--only", nargs="+", choices=list(RUNS), default=["default", "tuned", "fashion"],
                        help=f"configs to run (default: default tuned fashion; {slow})")  # fmt: skip
    args = parse(parser)
    print_provenance()
    print("| config | command | whole command | test accuracy | first 128 |\n| --- | --- | --- | --- | --- |")
    for name in args.only:
        config, extra = RUNS[name]
        data_dir = PROJECT / "data" if name == "fashion" else Path(args.data_dir).resolve()
        if name == "fashion" and not (data_dir / "FashionMNIST" / "raw").is_dir():
            print(f"| `{config}` | skipped: run `bash scripts/fashion_data.sh` first | | | |", flush=True)
            continue
        run = run_fit(config, str(data_dir), None, "--trainer.enable_progress_bar", "false", *extra)
        shown = " ".join(["python -m rnn_lightning fit --config", f"configs/{config}", *extra])
        figures = f"{run['wall']:.0f} s | {run['test_acc']:.4f} | {run['first_128']:.4f}"
        print(f"| `{config}` | `{shown}` | {figures} |", flush=True)


if __name__ == "__main__":
    main()
