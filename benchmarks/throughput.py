"""Training throughput of rnn_lightning's fit path against a bare PyTorch loop, side by side in one process.

    python benchmarks/throughput.py --data_dir DATA [--steps 400] [--repeats 5] [--json]
    python benchmarks/throughput.py --data_dir DATA --hidden-size 2 --batch-size 8   (kernels of no weight)

Both paths train the default model (LSTM 128, TF initialisation, SGD 0.001, batch 128) on the same
in-memory MNIST rows. (a) is `python -m rnn_lightning fit --config configs/default.yaml` as built by the
CLI: TensorBoard logging, the history callback, checkpointing and the progress bar all on. (b) is the
loop a user would write by hand. (c), to tell the two costs apart, is (a) with our logger, callbacks
and progress bar switched off: Lightning's loop alone.

The speed of a shared 2-core machine drifts by several percent within seconds, more than the
difference measured here, so the paths are interleaved finely: every `--chunk` steps of a fit, a
callback runs `--chunk` steps of the bare loop (its own model and optimizer), and each path's median
step period is taken over its own steps only (never a period across a switch). Fit and bare loop thus
sample the same moments of the machine. `--repeats` fits of (a) and of (c) give the medians reported,
with the ratios, each path's peak memory (a fresh process training that path alone for 50 steps; both
hold MNIST in memory) and the fp32 matmul roofline. With a tiny model (`--hidden-size 2 --batch-size 8`),
whose kernels take almost no time, path (c) shows the µs a step Lightning's loop adds by itself.
"""

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import lightning as L
import torch
import torch.nn.functional as F
from common import (
    StepClock,
    add_data_dir,
    fit_cli,
    parse,
    print_provenance,
    provenance,
    step_rate,
    synchronize,
)

from rnn_lightning.data.datamodule import MNISTDataModule
from rnn_lightning.model.network import RecurrentNetwork


class BareLoop:
    """A hand-written loop (b): the same model, optimizer and batches, the data on the device as the fit
    path holds it. `run(n)` trains n more steps and records when each ended."""

    def __init__(
        self, datamodule: MNISTDataModule, device: torch.device, batch_size: int, hidden_size: int = 128
    ) -> None:
        torch.manual_seed(1234)
        self.device = device
        self.network = RecurrentNetwork(hidden_size=hidden_size, init="tf").to(device)
        self.optimizer = torch.optim.SGD(self.network.parameters(), lr=0.001)
        self.images, self.labels = (t.to(device) for t in datamodule.split("train"))
        self.to_sequence = datamodule.to_sequence.to(device)
        self.batch_size = batch_size
        self.batches = iter(())
        self.ends: list[float | None] = []

    def _next_index(self) -> torch.Tensor:
        index = next(self.batches, None)
        if index is None:  # a new epoch's order
            order = torch.randperm(len(self.images), device=self.device)
            self.batches = iter(order.split(self.batch_size)[: len(self.images) // self.batch_size])
            index = next(self.batches)
        return index

    def run(self, steps: int) -> None:
        self.ends.append(None)  # the first period would span whatever ran before
        for _ in range(steps):
            index = self._next_index()
            inputs = self.to_sequence(self.images.index_select(0, index))  # the fit path's gather
            loss = F.cross_entropy(self.network(inputs), self.labels.index_select(0, index))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            synchronize(self.device)
            self.ends.append(time.perf_counter())


class Interleave(L.Callback):
    """Every `chunk` timed steps of the fit, runs `chunk` steps of the bare loop."""

    def __init__(self, bare: BareLoop, clock: StepClock, warmup: int, chunk: int) -> None:
        self.bare, self.clock, self.warmup, self.chunk = bare, clock, warmup, chunk

    def on_train_batch_end(self, trainer, *args) -> None:
        step = trainer.global_step
        if step >= self.warmup and (step - self.warmup) % self.chunk == self.chunk - 1:
            self.bare.run(self.chunk)
            self.clock.ends.append(None)  # the fit's period across the bare chunk is not a fit step


def fit_path_args(args, extra: list[str], steps: int | None = None) -> list[str]:
    return [
        "--data.batch_size",
        str(args.batch_size),
        "--model.hidden_size",
        str(args.hidden_size),
        "--trainer.max_steps",
        str(steps or args.warmup + args.steps),
        "--trainer.num_sanity_val_steps",
        "0",
        *extra,
    ]


def time_interleaved(args, bare: BareLoop, extra: list[str]) -> tuple[float, float]:
    """Samples/s of the CLI-built fit path (a or c) and of the bare loop run between its steps."""
    bare.ends = []
    with tempfile.TemporaryDirectory() as logs:
        cli = fit_cli(args.data_dir, logs, *fit_path_args(args, extra))
        clock = StepClock(args.warmup)
        cli.trainer.callbacks += [clock, Interleave(bare, clock, args.warmup, args.chunk)]
        # The progress bar draws on stdout; send it to stderr so that stdout holds the results alone.
        with contextlib.redirect_stdout(sys.stderr):
            cli.trainer.fit(cli.model, cli.datamodule)
    return step_rate(clock.ends, args.batch_size), step_rate(bare.ends, args.batch_size)


def peak_memory_mib(args, path: str, steps: int = 50) -> float:
    """Peak resident memory of a fresh process that trains `steps` steps of one path alone (PyTorch and
    Lightning, imported by both, included); where the two differ is what a path adds."""
    command = [sys.executable, __file__, "--memory-of", path, "--data_dir", args.data_dir]
    command += ["--batch-size", str(args.batch_size), "--steps", str(steps), "--warmup", "0"]
    command += ["--hidden-size", str(args.hidden_size)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def report_own_peak_memory(args, device: torch.device) -> None:
    """`--memory-of PATH`: trains that path alone, then prints this process's peak RSS in MiB."""
    if args.memory_of == "bare":
        datamodule = MNISTDataModule(data_dir=args.data_dir, batch_size=args.batch_size)
        datamodule.setup("fit")
        BareLoop(datamodule, device, args.batch_size, args.hidden_size).run(args.steps)
    else:
        with tempfile.TemporaryDirectory() as logs:
            cli = fit_cli(args.data_dir, logs, *fit_path_args(args, FIT_PATH))
            with contextlib.redirect_stdout(sys.stderr):
                cli.trainer.fit(cli.model, cli.datamodule)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


FIT_PATH = ["--trainer.enable_progress_bar", "true"]
# The same fit with everything of ours switched off: what Lightning's own loop costs.
LIGHTNING_ALONE = [
    "--trainer.enable_progress_bar=false",
    "--trainer.logger=false",
    "--trainer.callbacks=[]",
    "--trainer.enable_checkpointing=false",
    "--trainer.enable_model_summary=false",
]


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
    add_data_dir(parser)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden-size", type=int, default=128, help="LSTM units of both paths")
    parser.add_argument("--steps", type=int, default=300, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=20, help="steps of one path before switching")
    parser.add_argument("--memory-of", choices=["bare", "fit"], help=argparse.SUPPRESS)  # the memory pass
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parse(parser)
    if args.warmup + args.steps > 55_000 // args.batch_size:
        parser.error("warmup + steps must fit in one epoch, so that no validation falls inside the timing")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # what `accelerator: auto` picks
    if args.memory_of:
        report_own_peak_memory(args, device)
        return
    datamodule = MNISTDataModule(data_dir=args.data_dir, batch_size=args.batch_size)
    datamodule.setup("fit")
    bare_mib, fit_mib = peak_memory_mib(args, "bare"), peak_memory_mib(args, "fit")
    fit, core, bare_with_fit, bare_with_core = [], [], [], []
    for _ in range(args.repeats):
        bare = BareLoop(datamodule, device, args.batch_size, args.hidden_size)
        speed, bare_speed = time_interleaved(args, bare, FIT_PATH)
        fit.append(speed), bare_with_fit.append(bare_speed)
        with tempfile.TemporaryDirectory() as root:
            alone = [*LIGHTNING_ALONE, "--trainer.default_root_dir", root]
            bare = BareLoop(datamodule, device, args.batch_size, args.hidden_size)
            speed, bare_speed = time_interleaved(args, bare, alone)
        core.append(speed), bare_with_core.append(bare_speed)

    fit_speed, core_speed = statistics.median(fit), statistics.median(core)
    bare_speed = statistics.median(bare_with_fit + bare_with_core)
    pairs, core_pairs = (
        list(zip(fit, bare_with_fit, strict=True)),
        list(zip(core, bare_with_core, strict=True)),
    )
    ratio = statistics.median(f / b for f, b in pairs)
    core_ratio = statistics.median(c / b for c, b in core_pairs)
    extra_us = statistics.median(extra_per_step_us(f, b, args.batch_size) for f, b in pairs)
    core_extra_us = statistics.median(extra_per_step_us(c, b, args.batch_size) for c, b in core_pairs)
    gemm = (
        matmul_flops_per_second(args.batch_size, hidden=args.hidden_size)
        if device.type == "cpu"
        else float("nan")
    )
    flops = step_flops(args.batch_size, hidden=args.hidden_size)
    roofline_speed = gemm / flops * args.batch_size
    result = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        **provenance(),
        "batch_size": args.batch_size,
        "hidden_size": args.hidden_size,
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
        "bare_loop_runs_beside_fit_path": [round(s, 1) for s in bare_with_fit],
        "lightning_alone_runs": [round(s, 1) for s in core],
        "bare_loop_runs_beside_lightning_alone": [round(s, 1) for s in bare_with_core],
        "fit_path_peak_rss_mib": round(fit_mib, 1),
        "bare_loop_peak_rss_mib": round(bare_mib, 1),
        "gemm_gflops_at_model_shape": round(gemm / 1e9, 1),
        "step_gflop": round(flops / 1e9, 3),
        "roofline_samples_per_s": round(roofline_speed, 1),
        "fit_path_fraction_of_roofline": round(fit_speed / roofline_speed, 3),
    }
    if args.json:
        print(json.dumps(result))
        return
    print_provenance()
    print(f"| path | samples/s (median of {args.repeats} runs) | vs bare | step vs bare | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| rnn_lightning fit (default config) | {fit_speed:,.0f} | {ratio:.3f} | +{extra_us:.0f} µs"
        f" | {fit_mib:.0f} |"
    )
    print(
        f"| bare PyTorch loop | {bare_speed:,.0f} | 1 | {result['bare_loop_us_per_step']:,} µs a step"
        f" | {bare_mib:.0f} |"
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
        f" {flops / 1e9:.2f} GFLOP, so the matmul roofline is"
        f" {roofline_speed:,.0f} samples/s; the fit path reaches"
        f" {fit_speed / roofline_speed:.0%} of it"
    )


if __name__ == "__main__":
    main()
