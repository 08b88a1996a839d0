"""The tutorial's running report: a line every `interval` steps, and the performance plot at the end."""

import csv
import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.functional.classification import multiclass_accuracy
from tqdm import tqdm
from typing_extensions import override

from rnn_lightning.report.figures import performance_figure
from rnn_lightning.report.publish import publish
from rnn_lightning.report.run_title import run_title, split_size


def is_final_step(trainer: L.Trainer, batch_idx: int) -> bool:
    """Whether the step just taken is the run's last: `max_steps` reached, or the last batch of the last
    of `max_epochs` epochs. (A run stopped otherwise, by early stopping or Ctrl-C, cannot know it.)"""
    if 0 < trainer.max_steps <= trainer.global_step:
        return True
    epochs = trainer.max_epochs
    last_epoch = epochs is not None and epochs > 0 and trainer.current_epoch + 1 >= epochs
    return last_epoch and batch_idx + 1 >= trainer.num_training_batches


class TrainingHistory(L.Callback):
    """Records step, minibatch loss and accuracy at step 1, every `interval` steps and at the final step
    (the speedrun's 1,935 is no multiple of 200), printing the tutorial's line; records validation
    accuracy after each validation. When fitting ends it writes
    `history.csv` and `performance.png` into the run's log folder and adds the figure to TensorBoard.

    As the tutorial's `sess.run([loss_op, accuracy])` after `train_op`, the line measures the minibatch
    just trained on with the weights after that step's update: one more forward pass of one batch per
    interval, in eval mode and without gradients, so it draws no random numbers and resumes stay exact.
    """

    def __init__(self, interval: int = 200) -> None:
        if interval < 1:
            raise ValueError(f"interval must be at least 1, got {interval}")
        self.interval = interval
        self.train_records: list[tuple[int, float, float]] = []  # (step, loss, accuracy)
        self.val_records: list[tuple[int, float]] = []  # (step, accuracy)

    def _report(self, trainer: L.Trainer, line: str) -> None:
        """Prints `line` to stdout on rank zero. `tqdm.write` lifts any open progress bar (on stderr) off
        the terminal line and redraws it after, and prints as well once the bars are closed, as at fit end."""
        if trainer.is_global_zero:
            tqdm.write(line, file=sys.stdout)
            sys.stdout.flush()

    @override
    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if step != 1 and step % self.interval != 0 and not is_final_step(trainer, batch_idx):
            return
        if self.train_records and self.train_records[-1][0] == step:
            return  # gradient accumulation: one record per optimizer step
        loss, accuracy = self._measure_after_update(trainer, pl_module, batch)
        self.train_records.append((step, loss, accuracy))
        self._report(trainer, f"Step {step}, Minibatch Loss= {loss:.4f}, Training Accuracy= {accuracy:.3f}")

    @staticmethod
    def _measure_after_update(
        trainer: L.Trainer, pl_module: L.LightningModule, batch: tuple[Tensor, Tensor]
    ) -> tuple[float, float]:
        """Loss and accuracy of `batch` under the updated weights, in the training precision."""
        sequences, labels = batch
        was_training = pl_module.training
        pl_module.eval()
        try:
            with torch.no_grad(), trainer.precision_plugin.forward_context():
                logits = pl_module(sequences).float()
        finally:
            pl_module.train(was_training)
        loss = float(F.cross_entropy(logits, labels))
        accuracy = float(multiclass_accuracy(logits, labels, logits.shape[-1], average="micro"))
        return loss, accuracy

    @override
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit" or "val/acc" not in trainer.callback_metrics:
            return
        self.val_records.append((trainer.global_step, float(trainer.callback_metrics["val/acc"])))

    @override
    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._report(trainer, "Optimization Finished!")
        log_dir = trainer.log_dir  # broadcasts: every rank must ask, only rank zero writes
        if log_dir is None or not trainer.is_global_zero or not self.train_records:
            return
        self.write(Path(log_dir), trainer, run_title(trainer, pl_module))

    def write(self, log_dir: Path, trainer: L.Trainer | None = None, title: str = "") -> None:
        """Writes `history.csv` and `performance.png` into `log_dir`, and the figure to TensorBoard."""
        log_dir.mkdir(parents=True, exist_ok=True)
        rows = [(step, f"{loss:.6f}", f"{acc:.6f}", "") for step, loss, acc in self.train_records]
        rows += [(step, "", "", f"{acc:.6f}") for step, acc in self.val_records]
        rows.sort(key=lambda row: (row[0], row[3] != ""))
        with (log_dir / "history.csv").open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["step", "loss", "accuracy", "val_accuracy"])
            writer.writerows(rows)
        steps, _, accuracies = zip(*self.train_records, strict=True)
        val_steps, val_accuracies = zip(*self.val_records, strict=True) if self.val_records else ((), ())
        val_size = (split_size(trainer, "val") if trainer is not None else None) or 0
        figure = performance_figure(steps, accuracies, val_steps, val_accuracies, title, val_size)
        loggers = trainer.loggers if trainer is not None else []
        step = trainer.global_step if trainer is not None else 0
        publish(figure, log_dir / "performance.png", "performance", loggers, step, dpi=120)

    @override
    def state_dict(self) -> dict[str, Any]:
        return {"train_records": self.train_records, "val_records": self.val_records}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.train_records = [tuple(r) for r in state_dict["train_records"]]
        self.val_records = [tuple(r) for r in state_dict["val_records"]]
