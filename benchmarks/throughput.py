"""Training throughput of rnn_lightning's fit path against a bare PyTorch loop, side by side in one process.

    python benchmarks/throughput.py --data-dir ../shared/data [--steps 300] [--repeats 3] [--json]

Both paths train the default model (LSTM 128, TF initialisation, SGD 0.001, batch 128) on the same
in-memory MNIST rows. (a) is `python -m rnn_lightning fit --config configs/default.yaml` as built by the
CLI: TensorBoard logging, the history callback, checkpointing and the progress bar all on. (b) is the
loop a user would write by hand. (c), to tell the two costs apart, is (a) with our logger, callbacks
and progress bar switched off: Lightning's loop alone. Each is timed step by step after a warm-up,
alternately, `--repeats` times; the median step period gives samples/s, reported with the ratios, the
peak memory each added (the fit path's includes its own copy of MNIST), and the fp32 matmul roofline.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time

import torch
import torch.nn.functional as F
from common import PROJECT, StepClock, fit_cli, step_rate, synchronize

from rnn_lightning.data import MNISTDataModule
from rnn_lightning.network import RecurrentNetwork


class PeakRSS:
    """Samples the process's resident memory every few ms; `peak - start` is what a phase added."""

    def __enter__(self) -> "PeakRSS":
        self.start = self.peak = self._rss()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._running = False
        self._thread.join()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.005)

    @property
    def added_mib(self) -> float:
        return (self.peak - self.start) / 2**20


def time_fit_path(args, extra: list[str] = ()) -> tuple[float, float]:
    """Samples/s and added MiB of the CLI-built fit path (a)."""
    with tempfile.TemporaryDirectory() as logs:
        cli = fit_cli(
            args.data_dir,
            logs,
            "--data.batch_size",
            str(args.batch_size),
            "--trainer.max_steps",
            str(args.warmup + args.steps),
            "--trainer.num_sanity_val_steps",
            "0",
            *extra,
        )
        clock = StepClock(args.warmup)
        cli.trainer.callbacks.append(clock)
        # The progress bar draws on stdout; send it to stderr so that stdout holds the results alone.
        with PeakRSS() as memory, contextlib.redirect_stdout(sys.stderr):
            cli.trainer.fit(cli.model, cli.datamodule)
    return step_rate(clock.ends, args.batch_size), memory.added_mib


# The same fit with everything of ours switched off: what Lightning's own loop costs.
LIGHTNING_ALONE = [
    "--trainer.enable_progress_bar=false",
    "--trainer.logger=false",
    "--trainer.callbacks=[]",
    "--trainer.enable_checkpointing=false",
    "--trainer.enable_model_summary=false",
]


def time_bare_loop(args, datamodule: MNISTDataModule, device: torch.device) -> tuple[float, float]:
    """Samples/s and added MiB of a hand-written loop (b): same model, optimizer and batches, the data
    on the device as the fit path holds it."""
    torch.manual_seed(1234)
    network = RecurrentNetwork(hidden_size=128, init="tf").to(device)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.001)
    images, labels = (t.to(device) for t in datamodule.split("train"))
    to_sequence = datamodule.to_sequence.to(device)
    batches = torch.randperm(len(images), device=device).split(args.batch_size)
    ends = []
    with PeakRSS() as memory:
        for step, index in enumerate(batches[: args.warmup + args.steps], start=1):
            inputs = to_sequence(images.index_select(0, index))  # the fit path's gather
            loss = F.cross_entropy(network(inputs), labels.index_select(0, index))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step >= args.warmup:
                synchronize(device)
                ends.append(time.perf_counter())
    return step_rate(ends, args.batch_size), memory.added_mib


def extra_per_step_us(speed: float, bare_speed: float, batch_size: int) -> float:
    """How much longer a step of the path at `speed` samples/s takes than a bare loop step."""
    return (batch_size / speed - batch_size / bare_speed) * 1e6


def step_flops(batch: int, steps: int = 28, features: int = 28, hidden: int = 128) -> float:
    """Matrix-product FLOPs of one training step of the one-layer LSTM and its head.

    Forward: the gate products (batch, features + hidden) x (features + hidden, 4 * hidden) at every step.
    Backward: the weight gradients (as many again) and the gradient into the previous hidden state; none
    into the input, which needs no gradient.
    """
    gates = 4 * hidden
    forward = 2 * batch * (features + hidden) * gates * steps + 2 * batch * hidden * 10
    backward = forward + 2 * batch * gates * hidden * steps
    return forward + backward


def matmul_flops_per_second(batch: int, features: int = 28, hidden: int = 128) -> float:
    """Measured fp32 GEMM speed at the model's own shapes (gate products forward, hidden-state gradient
    backward), the FLOP-weighted mean of the two."""
    shapes = [(batch, features + hidden, 4 * hidden), (batch, 4 * hidden, hidden)]
    total_flops = total_seconds = 0.0
    for m, k, n in shapes:
        a, b = torch.randn(m, k), torch.randn(k, n)
        for _ in range(50):
            a @ b
        repeats = 1000
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        total_seconds += time.perf_counter() - start
        total_flops += repeats * 2 * m * k * n
    return total_flops / total_seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(PROJECT.parent / "shared" / "data"))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    if args.warmup + args.steps > 55_000 // args.batch_size:
        parser.error("warmup + steps must fit in one epoch, so that no validation falls inside the timing")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # what `accelerator: auto` picks
    datamodule = MNISTDataModule(data_dir=args.data_dir, batch_size=args.batch_size)
    datamodule.setup("fit")
    fit, bare, core, fit_mib, bare_mib = [], [], [], [], []
    for _ in range(args.repeats):  # alternate, so that drift in machine speed hits all alike
        speed, mib = time_fit_path(args, ["--trainer.enable_progress_bar", "true"])
        fit.append(speed), fit_mib.append(mib)
        speed, mib = time_bare_loop(args, datamodule, device)
        bare.append(speed), bare_mib.append(mib)
        with tempfile.TemporaryDirectory() as root:
            core.append(time_fit_path(args, [*LIGHTNING_ALONE, "--trainer.default_root_dir", root])[0])

    fit_speed, bare_speed, core_speed = (
        statistics.median(fit),
        statistics.median(bare),
        statistics.median(core),
    )
    # Each repeat's paths ran back to back, so their ratio within a repeat is the fairest comparison;
    # the medians over repeats drop a repeat that a burst of outside load slowed.
    pairs, core_pairs = list(zip(fit, bare, strict=True)), list(zip(core, bare, strict=True))
    ratio = statistics.median(f / b for f, b in pairs)
    core_ratio = statistics.median(c / b for c, b in core_pairs)
    extra_us = statistics.median(extra_per_step_us(f, b, args.batch_size) for f, b in pairs)
    core_extra_us = statistics.median(extra_per_step_us(c, b, args.batch_size) for c, b in core_pairs)
    gemm = matmul_flops_per_second(args.batch_size) if device.type == "cpu" else float("nan")
    roofline_speed = gemm / step_flops(args.batch_size) * args.batch_size
    result = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "fit_path_samples_per_s": round(fit_speed, 1),
        "bare_loop_samples_per_s": round(bare_speed, 1),
        "ratio_fit_to_bare": round(ratio, 3),
        "fit_path_extra_us_per_step": round(extra_us),
        "bare_loop_us_per_step": round(args.batch_size / bare_speed * 1e6),
        "lightning_alone_samples_per_s": round(core_speed, 1),
        "ratio_lightning_alone_to_bare": round(core_ratio, 3),
        "lightning_alone_extra_us_per_step": round(core_extra_us),
        "fit_path_runs": [round(s, 1) for s in fit],
        "bare_loop_runs": [round(s, 1) for s in bare],
        "lightning_alone_runs": [round(s, 1) for s in core],
        "fit_path_peak_added_mib": round(max(fit_mib), 1),
        "bare_loop_peak_added_mib": round(max(bare_mib), 1),
        "gemm_gflops_at_model_shape": round(gemm / 1e9, 1),
        "step_gflop": round(step_flops(args.batch_size) / 1e9, 3),
        "roofline_samples_per_s": round(roofline_speed, 1),
        "fit_path_fraction_of_roofline": round(fit_speed / roofline_speed, 3),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"\n| path | samples/s (median of {args.repeats} runs) | vs bare | step vs bare | peak added MiB |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| rnn_lightning fit (default config) | {fit_speed:,.0f} | {ratio:.3f} | +{extra_us:.0f} µs"
        f" | {max(fit_mib):.0f} |"
    )
    print(
        f"| bare PyTorch loop | {bare_speed:,.0f} | 1 | {result['bare_loop_us_per_step']:,} µs a step"
        f" | {max(bare_mib):.0f} |"
    )
    print(
        f"| Lightning alone (no logger, callbacks, progress bar) | {core_speed:,.0f} | {core_ratio:.3f}"
        f" | +{core_extra_us:.0f} µs | |"
    )
    print(f"\nfit / bare = {ratio:.3f}  ({result['device']}; the median of the repeats' own ratios)")
    if device.type != "cpu":
        return
    print(
        f"fp32 GEMM at the model's shape: {gemm / 1e9:.1f} GFLOP/s; one step is"
        f" {step_flops(args.batch_size) / 1e9:.2f} GFLOP, so the matmul roofline is"
        f" {roofline_speed:,.0f} samples/s; the fit path reaches"
        f" {fit_speed / roofline_speed:.0%} of it"
    )


if __name__ == "__main__":
    main()
