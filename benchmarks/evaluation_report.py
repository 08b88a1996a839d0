"""What the test report costs: the test pass over the 10,000 test images with and without gathering the
report's metrics, then the drawing of its pictures, in one process, alternating, median of N.

    python benchmarks/evaluation_report.py --data_dir DATA [--repeats 5]

"Without" is the test step as it was before the report: the model's forward, loss and accuracy only.
Then the gates' statistics for one test batch (`GatesByRow.update`): each image's units summed in float32
first, as the metric does, against summing every value in float64 as it is read, alternating, median
of N. Last, how the pictures reach TensorBoard: their PNG bytes as written (`add_png`) against decoding
them and letting `add_image` encode them again, alternating, median of N.
"""

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from common import add_data_dir, fit_cli, parse, print_provenance
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

from rnn_lightning.model.reading import read
from rnn_lightning.report.evaluation_report import EvaluationReport
from rnn_lightning.report.inside_metrics import GatesByRow
from rnn_lightning.workarounds.tensorboard_png import add_png


def tensorboard_ways(pictures: list[bytes], log_dir: str, repeats: int) -> dict[str, float]:
    """Median seconds to hand `pictures` (PNG bytes) to TensorBoard each way, the two alternating."""
    writer = SummaryWriter(log_dir)
    times = {"decoded, then add_image": [], "PNG bytes as written": []}
    for step in range(repeats):
        start = time.perf_counter()
        for index, png in enumerate(pictures):
            with Image.open(io.BytesIO(png)) as image:
                pixels = np.asarray(image.convert("RGB"))
            writer.add_image(f"decoded/{index}", pixels, global_step=step, dataformats="HWC")
        writer.flush()
        times["decoded, then add_image"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for index, png in enumerate(pictures):
            add_png(writer, f"bytes/{index}", png, step)
        times["PNG bytes as written"].append(time.perf_counter() - start)
    writer.close()
    return {name: statistics.median(values) for name, values in times.items()}


def gates_summed_as_read(self, inside) -> None:
    """`GatesByRow.update` as it was: every value summed in float64 as it is read."""
    for layer, found in enumerate(inside.layers):
        for index, name in enumerate(self.names):
            values = found.gates[name]
            self.total[layer, index] += values.sum((0, 2), dtype=torch.float64)
            norm = torch.linalg.vector_norm(values, dim=(0, 2), dtype=torch.float64)
            self.squares[layer, index] += norm.square()
    self.count += inside.contribution.numel()


def gates_ways(model, data, repeats: int) -> tuple[dict[str, float], int]:
    """Median seconds of one `GatesByRow.update` on a test batch's gates, the two ways alternating, and
    the batch's size."""
    sequences, _ = next(iter(data.test_dataloader()))
    with torch.no_grad():
        inside = read(model.network, sequences.to(model.device), inside=True).inside
    metric = GatesByRow(model.network.cell, model.network.rnn.num_layers)
    ways = {"float32 per image, then float64": GatesByRow.update, "float64 as read": gates_summed_as_read}
    times = {name: [] for name in ways}
    for _ in range(repeats * 10):
        for name, update in ways.items():
            start = time.perf_counter()
            update(metric, inside)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}, len(sequences)


def plain_test_step(self, batch, batch_idx):
    """The test step without the report's metrics (one forward, loss, accuracy)."""
    sequences, labels = batch
    logits = self(sequences)
    self.test_loss(F.cross_entropy(logits, labels), weight=len(labels))
    self.test_acc(logits, labels)
    self.log("test/loss", self.test_loss)
    self.log("test/acc", self.test_acc)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir(parser)
    parser.add_argument("--repeats", type=int, default=5)
    args = parse(parser)
    with tempfile.TemporaryDirectory() as logs:
        cli = fit_cli(
            args.data_dir, logs, "--trainer.enable_progress_bar", "false", "--trainer.max_steps", "1"
        )
        trainer, model, data = cli.trainer, cli.model, cli.datamodule
        trainer.fit(model, data)
        report_step = type(model).test_step
        times = {"with the report's metrics": [], "without": []}
        for _ in range(args.repeats):
            for name in times:
                type(model).test_step = report_step if name != "without" else plain_test_step
                start = time.perf_counter()
                trainer.test(model, datamodule=data, verbose=False)
                times[name].append(time.perf_counter() - start)
        type(model).test_step = report_step
        trainer.test(model, datamodule=data, verbose=False)
        insights = model.test_insights.compute()
        start = time.perf_counter()
        EvaluationReport().write(Path(logs) / "report", insights, trainer, model)
        drawing = time.perf_counter() - start
        gates, batch = gates_ways(model, data, args.repeats)
        pictures = [path.read_bytes() for path in sorted((Path(logs) / "report").glob("*.png"))]
        handing = tensorboard_ways(pictures, str(Path(logs) / "ways"), args.repeats)
    base = statistics.median(times["without"])
    print_provenance()
    print("| test pass over 10,000 images | seconds (median) | vs without |\n| --- | --- | --- |")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.3f} | {statistics.median(values) / base:.2f}x |")
    print(f"| drawing and writing the {len(pictures)} pictures and their CSVs, once | {drawing:.2f} | |")
    print(f"\n| the gates' statistics, one test batch of {batch} | milliseconds (median) |\n| --- | --- |")
    for name, seconds in gates.items():
        print(f"| {name} | {seconds * 1e3:.2f} |")
    print(f"\n| the {len(pictures)} pictures to TensorBoard | seconds (median) |\n| --- | --- |")
    for name, seconds in handing.items():
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
