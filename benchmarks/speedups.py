"""Faster settings against the faithful fp32 default: full fits, side by side in one process.

    python benchmarks/speedups.py --data_dir DATA [--variants fp32 bf16 compile] [--json]

Each variant is the default config plus a few overrides, fitted for its 10,000 steps of 128 and tested
on the 10,000 test images. Training samples/s counts the training steps only (the step clock of
common.py: validation time is excluded); wall is the whole fit. Other batch sizes: scaling.py.
"""

import argparse
import json
import tempfile
import time

from common import StepClock, add_data_dir, fit_cli, parse, print_provenance, provenance, step_periods

VARIANTS = {
    "fp32": [],
    "bf16": ["--trainer.precision", "bf16-mixed"],
    "compile": ["--model.compile", "true"],
}


def run_variant(data_dir: str, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as logs:
        cli = fit_cli(data_dir, logs, "--trainer.enable_progress_bar", "false", *overrides)
        clock = StepClock(warmup=0)
        cli.trainer.callbacks.append(clock)
        start = time.perf_counter()
        cli.trainer.fit(cli.model, cli.datamodule)
        wall = time.perf_counter() - start
        test = cli.trainer.test(cli.model, datamodule=cli.datamodule, verbose=False)[0]
    periods, batch_size = step_periods(clock.ends), cli.datamodule.hparams.batch_size
    return {
        "steps": cli.trainer.global_step,
        "batch_size": batch_size,
        "train_samples_per_s": round(len(periods) * batch_size / sum(periods), 1),
        "fit_wall_s": round(wall, 1),
        "test_acc": round(test["test/acc"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir(parser)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--json", action="store_true")
    args = parse(parser)
    results = {name: run_variant(args.data_dir, VARIANTS[name]) for name in args.variants}
    if args.json:
        print(json.dumps({**provenance(), "variants": results}))
        return
    print_provenance()
    base = results.get("fp32")
    print("\n| variant | overrides | steps x batch | train samples/s | vs fp32 | fit wall | test acc |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        ratio = f"{r['train_samples_per_s'] / base['train_samples_per_s']:.2f}x" if base else ""
        overrides = " ".join(VARIANTS[name]) or "(default config)"
        print(
            f"| {name} | `{overrides}` | {r['steps']} x {r['batch_size']} | {r['train_samples_per_s']:,.0f} |"
            f" {ratio} | {r['fit_wall_s']:.0f} s | {r['test_acc']:.4f} |"
        )


if __name__ == "__main__":
    main()
