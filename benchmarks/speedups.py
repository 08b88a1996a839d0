"""Faster settings against the faithful fp32 default: full fits, side by side in one process.

    python benchmarks/speedups.py --data-dir ../shared/data [--variants fp32 bf16 batch512 compile] [--json]

Each variant is the default config plus a few overrides, fitted to the same number of training
samples (10,000 steps of 128) and tested on the 10,000 test images. Training samples/s counts the
training steps only (validation time is excluded); wall is the whole fit.
"""

import argparse
import json
import tempfile
import time

import lightning as L
from common import PROJECT, fit_cli

VARIANTS = {
    "fp32": [],
    "bf16": ["--trainer.precision", "bf16-mixed"],
    # Four times the batch, four times the learning rate, a quarter of the steps: the same samples.
    "batch512": ["--data.batch_size", "512", "--optimizer.lr", "0.004", "--trainer.max_steps", "2500"],
    "compile": ["--model.compile", "true"],
}


class TrainClock(L.Callback):
    """Seconds spent in training steps: the fit's wall time less validation."""

    def __init__(self) -> None:
        self.train_seconds = 0.0
        self._started = 0.0

    def on_train_start(self, trainer, pl_module) -> None:
        self._started = time.perf_counter()

    def on_validation_start(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.train_seconds += time.perf_counter() - self._started

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._started = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self.train_seconds += time.perf_counter() - self._started


def run_variant(data_dir: str, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as logs:
        cli = fit_cli(data_dir, logs, "--trainer.enable_progress_bar", "false", *overrides)
        clock = TrainClock()
        cli.trainer.callbacks.append(clock)
        start = time.perf_counter()
        cli.trainer.fit(cli.model, cli.datamodule)
        wall = time.perf_counter() - start
        test = cli.trainer.test(cli.model, datamodule=cli.datamodule, verbose=False)[0]
    samples = cli.trainer.global_step * cli.datamodule.hparams.batch_size
    return {
        "steps": cli.trainer.global_step,
        "batch_size": cli.datamodule.hparams.batch_size,
        "train_samples_per_s": round(samples / clock.train_seconds, 1),
        "fit_wall_s": round(wall, 1),
        "test_acc": round(test["test/acc"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(PROJECT.parent / "shared" / "data"))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {name: run_variant(args.data_dir, VARIANTS[name]) for name in args.variants}
    if args.json:
        print(json.dumps(results))
        return
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
