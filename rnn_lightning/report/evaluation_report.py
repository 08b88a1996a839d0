"""After every test: what the model confuses, its worst mistakes, how early it knows, how well its
probabilities are calibrated, how its gates open row by row and what its units hold for each class, as
files in the run's folder and images in TensorBoard."""

import csv
import sys
from pathlib import Path

import lightning as L
from matplotlib.figure import Figure
from typing_extensions import override

from rnn_lightning.report.figures import (
    accuracy_by_row_figure,
    calibration_figure,
    confusion_figure,
    mistakes_figure,
)
from rnn_lightning.report.inside_figures import gates_by_row_figure, memory_by_digit_figure
from rnn_lightning.report.metrics import Insights
from rnn_lightning.report.publish import publish
from rnn_lightning.report.run_title import class_names, run_title

READING_AXIS = {
    "rows": "rows read",
    "pixels": "rows read (28 pixels each)",
    "permuted": "28-pixel steps read",
}


class EvaluationReport(L.Callback):
    """Draws `SequenceClassifier.test_insights` when a test ends, into the run's log folder:
    `confusion_matrix.png`, `per_class.csv`, `errors.png`, `accuracy_by_row.png/.csv`,
    `calibration.png`, `gates_by_row.png/.csv` (not for a plain RNN, which has no gates) and
    `memory_by_digit.png/.csv`, and the same figures under `test/...` in TensorBoard. A bidirectional
    model has no reading in order: no accuracy by row, gates by row or memory by digit.

    The metrics are synced on every process (each image counted once); only rank zero writes.
    """

    @override
    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        insights = pl_module.test_insights.compute()  # syncs: every rank must call it
        log_dir = trainer.log_dir  # broadcasts: every rank must ask
        if not trainer.is_global_zero:
            return
        if insights.accuracy_by_point is None:
            print(
                "No accuracy by row, gates by row or memory by digit: a bidirectional model reads every "
                "row from both ends before it answers, so it has no answer or state after the first rows",
                file=sys.stderr,
                flush=True,
            )
        if log_dir is None:  # fast_dev_run: no run folder
            return
        # a second test in the same run (fit's held-out folder) reports into a subfolder of its own
        self.write(
            Path(log_dir) / getattr(trainer.datamodule, "report_folder", ""), insights, trainer, pl_module
        )

    def write(self, log_dir: Path, insights: Insights, trainer: L.Trainer, pl_module: L.LightningModule):
        log_dir.mkdir(parents=True, exist_ok=True)
        title = run_title(trainer, pl_module)
        names = class_names(trainer, len(insights.confusion))
        figures: dict[str, Figure] = {}
        figures["confusion_matrix"] = confusion_figure(insights.confusion, names, title)
        write_per_class(log_dir / "per_class.csv", insights, names)
        mistakes = insights.mistakes
        images = (
            trainer.datamodule.to_sequence.to_images(mistakes["inputs"]) if len(mistakes["labels"]) else []
        )
        figures["errors"] = mistakes_figure(
            images, mistakes["labels"], mistakes["predicted"], mistakes["probability"], names, title
        )
        axis = READING_AXIS.get(getattr(trainer.datamodule.to_sequence, "kind", "rows"), "rows read")
        if insights.accuracy_by_point is not None:
            accuracy = insights.accuracy_by_point.tolist()
            write_accuracy_by_row(log_dir / "accuracy_by_row.csv", accuracy)
            figures["accuracy_by_row"] = accuracy_by_row_figure(accuracy, title, axis)
        if insights.gates is not None:
            write_gates_by_row(log_dir / "gates_by_row.csv", insights.gates, insights.gate_names)
            figures["gates_by_row"] = gates_by_row_figure(insights.gates, insights.gate_names, title, axis)
        if insights.memory is not None:
            write_memory_by_digit(log_dir / "memory_by_digit.csv", insights.memory, names)
            figures["memory_by_digit"] = memory_by_digit_figure(insights.memory, names, title)
        ece = float(insights.reliability["ece"])
        figures["calibration"] = calibration_figure(insights.reliability, ece, title)
        tag = "/".join(filter(None, ("test", getattr(trainer.datamodule, "report_folder", ""))))
        for name, figure in figures.items():
            publish(figure, log_dir / f"{name}.png", f"{tag}/{name}", trainer.loggers, trainer.global_step)


def write_per_class(path: Path, insights: Insights, names: list[str]) -> None:
    """`class,precision,recall,f1,support`: torchmetrics' per-class scores (`average=None`)."""
    scores = {name: values.tolist() for name, values in insights.per_class.items()}
    support = insights.confusion.sum(1).tolist()
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["class", "precision", "recall", "f1", "support"])
        for index, name in enumerate(names):
            row = [scores[key][index] for key in ("precision", "recall", "f1")]
            writer.writerow([name, *(f"{value:.6f}" for value in row), support[index]])


def write_accuracy_by_row(path: Path, accuracy: list[float]) -> None:
    """`rows_read,accuracy`: the test accuracy of the answer read off after each row."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["rows_read", "accuracy"])
        writer.writerows((index + 1, f"{value:.6f}") for index, value in enumerate(accuracy))


def write_gates_by_row(path: Path, gates: dict, names: tuple[str, ...]) -> None:
    """`layer,gate,rows_read,mean,std`: each gate's mean and spread over the test images and units."""
    mean, std = gates["mean"].tolist(), gates["std"].tolist()
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["layer", "gate", "rows_read", "mean", "std"])
        for layer, by_gate in enumerate(mean):
            for index, name in enumerate(names):
                for point, value in enumerate(by_gate[index]):
                    spread = std[layer][index][point]
                    writer.writerow([layer + 1, name, point + 1, f"{value:.6f}", f"{spread:.6f}"])


def write_memory_by_digit(path: Path, memory: dict, names: list[str]) -> None:
    """`class,images,unit_0,...`: each top-layer unit's mean final hidden state over each true class."""
    mean, images = memory["mean"].tolist(), memory["images"].tolist()
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["class", "images", *(f"unit_{unit}" for unit in range(len(mean[0])))])
        for index, name in enumerate(names):
            writer.writerow([name, int(images[index]), *(f"{value:.6f}" for value in mean[index])])
