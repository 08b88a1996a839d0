"""After every test: what the model confuses, its worst mistakes, how early it knows and how well its
probabilities are calibrated, as files in the run's folder and images in TensorBoard."""

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
    `confusion_matrix.png`, `per_class.csv`, `errors.png`, `accuracy_by_row.png/.csv` and
    `calibration.png`, and the same figures under `test/...` in TensorBoard.

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
                "No accuracy by row: a bidirectional model reads every row from both ends before it "
                "answers, so it has no answer after the first rows to measure",
                file=sys.stderr,
                flush=True,
            )
        if log_dir is None:  # fast_dev_run: no run folder
            return
        self.write(Path(log_dir), insights, trainer, pl_module)

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
        if insights.accuracy_by_point is not None:
            accuracy = insights.accuracy_by_point.tolist()
            write_accuracy_by_row(log_dir / "accuracy_by_row.csv", accuracy)
            axis = READING_AXIS.get(getattr(trainer.datamodule.to_sequence, "kind", "rows"), "rows read")
            figures["accuracy_by_row"] = accuracy_by_row_figure(accuracy, title, axis)
        ece = float(insights.reliability["ece"])
        figures["calibration"] = calibration_figure(insights.reliability, ece, title)
        for name, figure in figures.items():
            publish(figure, log_dir / f"{name}.png", f"test/{name}", trainer.loggers, trainer.global_step)


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
