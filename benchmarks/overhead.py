"""Where the fit path's fixed cost per step comes from: the pieces behind docs/performance.md and
docs/time_to_accuracy.md, each timed on its own.

    python benchmarks/overhead.py --data_dir DATA [--json]

1. Gathering a batch of 128 images from the uint8 split held in memory: `images[index]` against
   `images.index_select(0, index)`, the same rows; and reordering a batch of 128 pixel sequences for
   permuted MNIST: `pixels[:, permutation]` against `pixels.index_select(1, permutation)`.
2. One AdamW step over the LSTM 128 model's parameters and gradients: PyTorch's default on CPU (a loop
   over the tensors), `foreach=True` and `fused=True`, interleaved, median µs.
3. The CUDA check `torch.optim` makes at every step, timed inside short fits of `configs/speedrun.yaml`,
   with Lightning's `PYTORCH_NVML_BASED_CUDA_CHECK=1` kept and dropped (`workarounds/nvml_cuda_check.py`),
   alternating, mean µs a step.

What Lightning's own loop adds a step (against a bare loop, for the default model and a tiny one) is
throughput.py's "Lightning alone" row.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import PROJECT, add_data_dir, parse, print_provenance, provenance

from rnn_lightning.data.datamodule import MNISTDataModule


def gather_us(images: torch.Tensor, batch_size: int, index_select: bool, repeats: int = 2000) -> float:
    """Median µs of one gather of `batch_size` random rows."""
    indices = [torch.randperm(len(images))[:batch_size] for _ in range(repeats)]
    times = []
    for index in indices:
        start = time.perf_counter()
        images.index_select(0, index) if index_select else images[index]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def permute_us(batch_size: int, index_select: bool, repeats: int = 2000) -> float:
    """Median µs of putting `batch_size` float sequences of 784 pixels into a fixed random order."""
    pixels, permutation = torch.rand(batch_size, 784), torch.randperm(784)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pixels.index_select(1, permutation) if index_select else pixels[:, permutation]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def adamw_step_us(repeats: int = 500) -> dict[str, float]:
    """Median µs of one AdamW step over the default model's parameters, each implementation in turn."""
    from rnn_lightning.model.network import RecurrentNetwork

    network = RecurrentNetwork(hidden_size=128, init="torch")
    for parameter in network.parameters():
        parameter.grad = torch.randn_like(parameter)
    kinds = {"for_loop": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    optimizers = {
        name: torch.optim.AdamW(network.parameters(), lr=1e-6, weight_decay=0.1, **options)
        for name, options in kinds.items()
    }
    times = {name: [] for name in kinds}
    for _ in range(repeats):
        for name, optimizer in optimizers.items():
            start = time.perf_counter()
            optimizer.step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


def cuda_check_us(args, rounds: int = 2, steps: int = 300) -> dict[str, float]:
    """Mean µs of `torch.optim`'s per-step CUDA check in fits with the NVML variable kept and dropped."""
    import rnn_lightning.cli.lightning_cli as cli
    from rnn_lightning.cli.main import main as run_cli
    from rnn_lightning.workarounds.nvml_cuda_check import NVML_CHECK, drop_nvml_check_without_gpus

    data_dir = str(Path(args.data_dir).resolve())  # before the fits change the working folder
    check = torch.optim.Optimizer._accelerator_graph_capture_health_check
    spent = {"kept": [], "dropped": []}

    def timed(optimizer):
        start = time.perf_counter()
        check(optimizer)
        spent[current].append(time.perf_counter() - start)

    torch.optim.Optimizer._accelerator_graph_capture_health_check = timed
    try:
        for _ in range(rounds):
            for current in spent:
                os.environ[NVML_CHECK] = "1"
                cli.drop_nvml_check_without_gpus = (
                    drop_nvml_check_without_gpus if current == "dropped" else lambda: False
                )
                with tempfile.TemporaryDirectory() as root:
                    os.chdir(root)  # the run's folder goes there
                    command = ["fit", "--config", str(PROJECT / "configs" / "speedrun.yaml")]
                    command += ["--data.data_dir", data_dir]
                    command += ["--trainer.max_steps", str(steps), "--trainer.enable_progress_bar", "false"]
                    command += ["--test_after_fit", "false"]
                    if run_cli(command) != 0:
                        raise SystemExit(f"fit failed: {command}")
    finally:
        os.chdir(PROJECT)
        torch.optim.Optimizer._accelerator_graph_capture_health_check = check
        cli.drop_nvml_check_without_gpus = drop_nvml_check_without_gpus
    return {name: statistics.mean(values) * 1e6 for name, values in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true")
    args = parse(parser)

    datamodule = MNISTDataModule(data_dir=args.data_dir)
    datamodule.setup("fit")
    images = datamodule.split("train")[0]
    result = {
        "gather_128_indexing_us": round(gather_us(images, 128, index_select=False), 1),
        "gather_128_index_select_us": round(gather_us(images, 128, index_select=True), 1),
        "permute_128_indexing_us": round(permute_us(128, index_select=False), 1),
        "permute_128_index_select_us": round(permute_us(128, index_select=True), 1),
    }
    result |= {f"adamw_{name}_us": round(value, 1) for name, value in adamw_step_us().items()}
    result |= {f"cuda_check_{name}_us": round(value, 1) for name, value in cuda_check_us(args).items()}
    if args.json:
        print(json.dumps({**provenance(), **result}))
        return
    print_provenance()
    print(
        f"gather of 128 images: images[index] {result['gather_128_indexing_us']} µs,"
        f" index_select {result['gather_128_index_select_us']} µs"
    )
    print(
        f"pixel order of 128 sequences: pixels[:, permutation] {result['permute_128_indexing_us']} µs,"
        f" index_select {result['permute_128_index_select_us']} µs"
    )
    print(
        f"one AdamW step, LSTM 128: for-loop (CPU default) {result['adamw_for_loop_us']} µs,"
        f" foreach {result['adamw_foreach_us']} µs, fused {result['adamw_fused_us']} µs"
    )
    print(
        "torch.optim's CUDA check a step, in a speedrun fit: with Lightning's NVML variable"
        f" {result['cuda_check_kept_us']} µs, without {result['cuda_check_dropped_us']} µs"
    )


if __name__ == "__main__":
    main()
