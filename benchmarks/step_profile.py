"""Where a training step of a config goes, per precision, batch size and thread count, on this processor.

    python benchmarks/step_profile.py --data_dir DATA [--config speedrun.yaml]
        [--precisions bf16-mixed 32-true] [--batch-sizes 96 128 160 192] [--threads 2 1]
        [--steps 60] [--rounds 4] [--pytorch-kernels] [--json]
    ONEDNN_MAX_CPU_ISA=AVX512_CORE python benchmarks/step_profile.py ...   (oneDNN as on a CPU without
                                                                            AVX-512 BF16 or AMX)

1. oneDNN's LSTM kernel for each precision, by the name oneDNN gives it (`ONEDNN_VERBOSE` in a child
   process): `brgemm:avx512_core_amx` runs bf16 on AMX's matrix units, `brgemm:avx512_core_bf16` on
   AVX-512 BF16's dot products, `ref` is oneDNN's generic path (fp32's packed matrix products; bf16
   converted in software where the CPU has neither).
2. The step of the config's fit path (the CLI-built Trainer, model and callbacks, validation off), each
   variant a short fit of `--steps` steps in this process, the variants taken in turn over `--rounds`
   rounds so that all of them sample the same moments of a shared machine: median ms a step (common.py's
   step clock, warm-up steps left out), µs a sample, and seconds an epoch of the 55,000 training images.
   `--pytorch-kernels` adds each precision at batch 128 with oneDNN switched off: PyTorch's own LSTM,
   which is what bf16 gets on an x86 CPU without AVX-512 (PyTorch hands bf16 to oneDNN only where the
   hardware has AVX-512 or AVX-NE-CONVERT; ONEDNN_MAX_CPU_ISA=AVX2 does not change that choice, and
   oneDNN then fails: use this option instead).
3. One profile (torch.profiler) per precision at the config's batch size and the machine's threads: a
   step's CPU time by part, each operator counted under the first part found among its callers: the
   LSTM kernel forward and backward, Muon's Newton-Schulz, AdamW and zero_grad, the casts between
   dtypes, the gradient clipping's norms; the rest (head, loss, autograd, Lightning's loop, Python) is what
   remains of the median step of an unprofiled fit of the same variant just before, since the profiler
   slows the small operators it records.

The speedrun's seeds and accuracies are time_to_accuracy.py's; the default config's cost against batch
size and sequence length is scaling.py's.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import (
    StepClock,
    add_config,
    add_data_dir,
    fit_cli,
    parse,
    print_provenance,
    provenance,
    step_periods,
)

PROFILED_BATCH = 128  # the speedrun's and the tutorial's batch size
TRAINING_IMAGES = 55_000  # the tutorial's split: 55,000 training images, 5,000 held out
NEWTON_SCHULZ = "rnn_lightning: Newton-Schulz"
PARTS = {  # an operator's part: the first of its callers (itself first) whose name starts so
    "aten::mkldnn_rnn_layer_backward": "LSTM kernel, backward",
    "aten::mkldnn_rnn_layer": "LSTM kernel, forward",
    NEWTON_SCHULZ: "Muon's Newton-Schulz",  # MuonAdamW's, marked while profiling (`marked_newton_schulz`)
    # AdamW: MuonAdamW's inner one (torch.optim's own mark) or a plain AdamW's fused kernel; not the outer
    # `Optimizer.step`, since it runs the closure (forward and backward)
    "Optimizer.step#AdamW.step": "AdamW and zero_grad",
    "aten::_fused_adamw_": "AdamW and zero_grad",
    "Optimizer.zero_grad": "AdamW and zero_grad",
    "aten::_foreach_norm": "gradient clipping",
    "aten::linalg_vector_norm": "gradient clipping",
    "aten::_foreach_mul_": "gradient clipping",
    "aten::_to_copy": "casts (bf16 autocast's; pixels to float)",
}
KERNEL_PROBE = """
import torch
lstm = torch.nn.LSTM(28, {hidden}, batch_first=True)
with torch.autocast("cpu", dtype=torch.bfloat16, enabled={bf16}):
    output, _ = lstm(torch.rand(8, 28, 28))
output.float().sum().backward()
"""


def lstm_kernels(precision: str, hidden_size: int) -> str:
    """oneDNN's names for the LSTM's forward and backward kernels in `precision` on this CPU."""
    code = KERNEL_PROBE.format(hidden=hidden_size, bf16=precision.startswith("bf16"))
    environment = {**os.environ, "ONEDNN_VERBOSE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120
    )
    kernels = []
    for line in result.stdout.splitlines():
        fields = line.split(",")
        if len(fields) > 7 and fields[2:6] == ["primitive", "exec", "cpu", "rnn"]:
            kernels.append(f"{fields[7]} {fields[6]}")
    if not kernels:
        return "no oneDNN RNN kernel (PyTorch's own LSTM: " + (result.stderr.strip()[-200:] or "ok") + ")"
    return ", ".join(dict.fromkeys(kernels))


def fit_steps(args, variant: tuple, callback=None) -> list[float]:
    """The periods of `args.steps` training steps (after warm-up) of a short fit of the config in
    `variant` (precision, kernels, batch size, threads)."""
    import torch

    precision, kernels, batch_size, threads = variant
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as logs, torch.backends.mkldnn.flags(enabled=kernels == "oneDNN"):
        cli = fit_cli(
            args.data_dir,
            logs,
            *("--trainer.precision", precision, "--data.batch_size", str(batch_size)),
            *("--trainer.max_steps", str(args.warmup + args.steps), "--trainer.limit_val_batches", "0"),
            *("--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"),
            config=args.config,
        )
        clock = StepClock(warmup=args.warmup)
        cli.trainer.callbacks.extend([clock, *([callback] if callback else [])])
        cli.trainer.fit(cli.model, cli.datamodule)
    return step_periods(clock.ends)


def step_table(args, default_threads: int) -> list[dict]:
    """Every variant's median step, the variants taken in turn over the rounds."""
    variants = [(p, "oneDNN", b, t) for p in args.precisions for b in args.batch_sizes for t in args.threads]
    if args.pytorch_kernels:
        variants += [(p, "PyTorch", PROFILED_BATCH, default_threads) for p in args.precisions]
    periods = {variant: [] for variant in variants}
    for _ in range(args.rounds):
        for variant in variants:
            periods[variant] += fit_steps(args, variant)
    import torch

    torch.set_num_threads(default_threads)
    rows = []
    for (precision, kernels, batch_size, threads), values in periods.items():
        step = statistics.median(values)
        rows.append(
            {
                "precision": precision,
                "kernels": kernels,
                "batch_size": batch_size,
                "threads": threads,
                "ms_per_step": round(step * 1e3, 2),
                "us_per_sample": round(step / batch_size * 1e6, 1),
                "s_per_epoch": round(step * TRAINING_IMAGES / batch_size, 2),
            }
        )
    return rows


@contextlib.contextmanager
def marked_newton_schulz():
    """MuonAdamW's Newton-Schulz under a profiler mark of its own while profiling: its products are
    `aten::addmm`, as the head's are."""
    import torch

    from rnn_lightning.training import muon_adamw

    plain = muon_adamw.orthogonalized

    def marked(*args, **kwargs):
        with torch.profiler.record_function(NEWTON_SCHULZ):
            return plain(*args, **kwargs)

    muon_adamw.orthogonalized = marked
    try:
        yield
    finally:
        muon_adamw.orthogonalized = plain


def profile_parts(args, precision: str, threads: int) -> dict:
    """A step's milliseconds by part, from a torch.profiler trace of the timed steps of one short fit."""
    import lightning as L
    import torch

    class ProfileWindow(L.Callback):
        """Traces from the first timed step to the end of the fit, and clocks the same span."""

        def __init__(self, warmup: int) -> None:
            self.warmup, self.started, self.wall = warmup, 0.0, 0.0
            self.trace = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])

        def on_train_batch_start(self, trainer, *args) -> None:
            if trainer.global_step == self.warmup:
                self.trace.__enter__()
                self.started = time.perf_counter()

        def on_train_end(self, trainer, pl_module) -> None:
            self.wall = time.perf_counter() - self.started
            self.trace.__exit__(None, None, None)

    variant = (precision, "oneDNN", PROFILED_BATCH, threads)
    unprofiled = statistics.median(fit_steps(args, variant))
    window = ProfileWindow(args.warmup)
    with marked_newton_schulz():
        fit_steps(args, variant, callback=window)
    totals = dict.fromkeys(PARTS.values(), 0.0)
    for event in window.trace.events():
        caller = event
        while caller is not None and not any(caller.name.startswith(name) for name in PARTS):
            caller = caller.cpu_parent
        if caller is not None:
            part = next(part for name, part in PARTS.items() if caller.name.startswith(name))
            totals[part] += event.self_cpu_time_total / 1e3
    steps = args.steps + 1  # the trace holds the first timed step too
    parts = {part: ms / steps for part, ms in totals.items()}
    parts["the rest"] = unprofiled * 1e3 - sum(parts.values())
    parts["whole step"] = unprofiled * 1e3
    parts["whole step, profiled"] = window.wall * 1e3 / steps
    return {part: round(ms, 2) for part, ms in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir(parser)
    add_config(parser)
    parser.add_argument(
        "--precisions", nargs="+", default=["bf16-mixed", "32-true"], help="default: %(default)s"
    )
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[96, 128, 160, 192], help="default: %(default)s"
    )
    parser.add_argument("--threads", type=int, nargs="+", help="intra-op threads (default: the machine's)")
    parser.add_argument("--steps", type=int, default=60, help="timed steps a fit (default 60)")
    parser.add_argument("--warmup", type=int, default=10, help="steps before the clock (default 10)")
    parser.add_argument("--rounds", type=int, default=4, help="fits of every variant (default 4)")
    parser.add_argument(
        "--pytorch-kernels",
        action="store_true",
        help="add each precision with oneDNN off (batch 128): PyTorch's own LSTM",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parse(parser)
    import torch

    default_threads = torch.get_num_threads()
    args.threads = args.threads or [default_threads]
    print_provenance()
    with contextlib.redirect_stdout(sys.stderr):  # Lightning's own lines are not figures
        kernels = {p: lstm_kernels(p, 128) for p in args.precisions}
        rows = step_table(args, default_threads)
        parts = {p: profile_parts(args, p, default_threads) for p in args.precisions}
    if args.json:
        print(json.dumps({**provenance(), "kernels": kernels, "steps": rows, "parts": parts}, indent=2))
        return
    for precision, names in kernels.items():
        print(f"oneDNN's LSTM kernels, {precision}: {names}")
    print(f"\n`{args.config}`, {args.steps} timed steps a fit, {args.rounds} round(s), median:\n")
    print("| precision | kernels | batch | threads | ms a step | µs a sample | s an epoch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {' | '.join(str(value) for value in row.values())} |")
    heading = f"A step at batch {PROFILED_BATCH}, {default_threads} threads, by part, ms (one profiled fit)"
    print(f"\n{heading}:\n")
    print(f"| part | {' | '.join(parts)} |")
    print(f"| --- | {' | '.join('---' for _ in parts)} |")
    for part in next(iter(parts.values())):
        print(f"| {part} | {' | '.join(f'{parts[p][part]:.2f}' for p in parts)} |")


if __name__ == "__main__":
    main()
