"""Latency per image of the exported ONNX file under ONNX Runtime (CPU) beside the same checkpoint in
PyTorch eager mode (`DigitReader.read`, what `serve` runs), at batch 1 and 16, measured side by side.

    python benchmarks/export_latency.py [--ckpt_path PATH] [--threads 1] [--repeats 21] [--data_dir DATA]

The two take turns: each round times a run of calls of one, then of the other, on the same MNIST test
images (random ones without the data), and the figure is the median round, so that a burst of load from
elsewhere on a shared machine slows a few rounds of both rather than all of one. Both answer the same
question: the ten probabilities and those after each row (their difference is printed too). Without
`--ckpt_path` it exports a freshly initialised default model (LSTM 128 on rows: speed does not depend on the
weights). Prints the processor, the commit, the versions and the load average around the run.
"""

import argparse
import os
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from common import add_data_dir, commit, parse, processor
from serve import make_checkpoint  # benchmarks/serve.py: an untrained checkpoint

from rnn_lightning.export.formats import onnx_bytes, trace
from rnn_lightning.export.graph import ExportedReader
from rnn_lightning.export.metadata import metadata
from rnn_lightning.model.reading import DigitReader

BATCHES = (1, 16)
ROUND_SECONDS = 0.2  # each round's run of calls lasts about this long


def test_images(count: int, data_dir: str | None) -> torch.Tensor:
    path = Path(data_dir or "") / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    if data_dir and path.is_file():
        return torch.from_numpy(np.fromfile(path, np.uint8, offset=16).reshape(-1, 28, 28)[:count].copy())
    return torch.randint(
        0, 256, (count, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )


def seconds_per_call(call, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def measure(reader: DigitReader, session, pixels: torch.Tensor, repeats: int) -> tuple[float, float, float]:
    """(PyTorch's µs per image, ONNX Runtime's, the largest difference between their answers)."""
    array = pixels.numpy()
    calls = {"pytorch": partial(reader.read, pixels), "onnx": partial(session.run, None, {"images": array})}
    wanted = [t.numpy() for t in calls["pytorch"]() if t is not None]
    difference = max(float(np.abs(a - b).max()) for a, b in zip(calls["onnx"](), wanted, strict=True))
    slowest = max(seconds_per_call(call, 3) for call in calls.values())  # also the warm-up
    count = max(3, round(ROUND_SECONDS / slowest))
    rounds = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            rounds[name].append(seconds_per_call(call, count))
    eager, runtime = (statistics.median(rounds[name]) / len(pixels) * 1e6 for name in calls)
    return eager, runtime, difference


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--ckpt_path", "--ckpt", help="checkpoint to export (default: an untrained default model)"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads of each runtime (serve's default: 1)")
    parser.add_argument("--repeats", type=int, default=21, help="rounds of each at each batch size")
    add_data_dir(parser, required=False, purpose="; MNIST test images, else random ones")
    args = parse(parser)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(args.ckpt_path) if args.ckpt_path else make_checkpoint(Path(folder))
        reader = DigitReader(checkpoint)
        graph = ExportedReader(reader)
        model = onnx_bytes(trace(graph, "uint8"), graph.output_names, metadata(reader, graph, "uint8"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
    session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    network = graph.network
    print(f"processor: {processor()}; commit {commit()}; torch {torch.__version__}, onnxruntime "
          f"{onnxruntime.__version__}; {args.threads} thread(s) each; {network.cell.upper()} "
          f"{network.rnn.hidden_size} on {reader.to_sequence.kind}")  # fmt: skip
    load_before = os.getloadavg()[0]
    images = test_images(max(BATCHES), args.data_dir)
    print(
        "\n| batch | PyTorch eager, µs/image | ONNX Runtime, µs/image | PyTorch / ORT | largest difference |"
    )
    print("| --- | --- | --- | --- | --- |")
    for batch in BATCHES:
        eager, runtime, difference = measure(reader, session, images[:batch], args.repeats)
        figures = f"{eager:,.0f} | {runtime:,.0f} | {eager / runtime:.2f}x | {difference:.1e}"
        print(f"| {batch} | {figures} |", flush=True)
    load_after = os.getloadavg()[0]
    print(f"\nload average (1 min) {load_before:.1f} before, {load_after:.1f} after, on "
          f"{os.cpu_count()} logical CPUs")  # fmt: skip


if __name__ == "__main__":
    main()
