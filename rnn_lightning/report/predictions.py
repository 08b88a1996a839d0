"""Reports `predict`: a `PATH DIGIT PROBABILITY` line per image, in input order, and `predictions.csv`."""

import csv
import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch
from typing_extensions import override

from rnn_lightning.errors import UserInputError
from rnn_lightning.program import program_name


class PredictionReport(L.Callback):
    """Collects the predicted digit and its probability per image; at the end prints them, writes
    `predictions.csv` into the run's log folder, names unreadable files on stderr and then fails."""

    def __init__(self) -> None:
        self.digits: list[torch.Tensor] = []
        self.probabilities: list[torch.Tensor] = []

    @override
    def on_predict_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        *args,
    ) -> None:
        digits, probabilities = outputs
        self.digits.append(digits.cpu())
        self.probabilities.append(probabilities.cpu())

    @override
    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = trainer.datamodule
        log_dir = trainer.log_dir  # broadcasts: every rank asks, rank zero writes
        if not trainer.is_global_zero:
            return
        digits = torch.cat(self.digits).tolist() if self.digits else []
        probabilities = torch.cat(self.probabilities).tolist() if self.probabilities else []
        rows = list(zip(datamodule.predict_names, digits, probabilities, strict=True))
        for name, digit, probability in rows:
            print(f"{name} {digit} {probability:.4f}")
        if log_dir is not None:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            with (Path(log_dir) / "predictions.csv").open("w", newline="") as file:
                writer = csv.writer(file)
                writer.writerow(["path", "digit", "probability"])
                writer.writerows((name, digit, f"{probability:.6f}") for name, digit, probability in rows)
        for path, reason in datamodule.unreadable:
            print(f"{program_name()}: cannot read {path} as an image: {reason}", file=sys.stderr)
        sys.stdout.flush()
        if datamodule.unreadable:
            total = len(rows) + len(datamodule.unreadable)
            raise UserInputError(f"{len(datamodule.unreadable)} of {total} files could not be read as images")
