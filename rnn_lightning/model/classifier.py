"""The `LightningModule`: cross-entropy training of a `RecurrentNetwork`, one accuracy metric per stage.

The optimizer is not defined here: LightningCLI's `optimizer:` group supplies it (SGD at 0.001 in the
default config), so it can be swapped or tuned from the config without touching the code.
"""

from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.optim import Optimizer
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy, MulticlassCalibrationError
from typing_extensions import override

from rnn_lightning.checkpointing.weights import load_weights
from rnn_lightning.model.network import CellKind, InitKind, RecurrentNetwork
from rnn_lightning.model.reading import read
from rnn_lightning.report.metrics import CALIBRATION_BINS, EvaluationInsights
from rnn_lightning.workarounds.fused_bf16_clipping import clip_bf16_gradients
from rnn_lightning.workarounds.hook_name_attribute import FastHookNameAttribute


class SequenceClassifier(FastHookNameAttribute, L.LightningModule):
    """Wraps `RecurrentNetwork`; logs `train/`, `val/` and `test/` loss and accuracy to the loggers.

    The test pass also logs the expected calibration error (`test/ece`) and gathers `test_insights`
    (confusions, per-class scores, accuracy by row, the worst mistakes, the gates by row and the memory
    by digit), which `EvaluationReport` draws.

    Args:
        input_size: features per step; linked from the data (`data.sequence`), never set by hand.
        hidden_size: recurrent units (the tutorial's 128).
        num_classes: linked from the data.
        cell: `lstm`, `gru` or `rnn`.
        num_layers, bidirectional, dropout: the recurrent stack, as in `torch.nn.LSTM`.
        init: `tf` reproduces the TensorFlow tutorial's initialisation; `torch` keeps PyTorch's defaults;
            `orthogonal` is PyTorch's with orthogonal recurrent matrices (the speedrun's).
        compile: compile the network with `torch.compile` (in place, so checkpoints keep their keys).
        label_smoothing: the training loss's label smoothing (0: the tutorial's plain cross-entropy);
            validation and test losses are always plain cross-entropy.
        init_from: a checkpoint whose weights `fit` starts from (fine-tuning), or 'last': the newest
            run's checkpoints/last.ckpt, as for --ckpt_path; its `state_dict` alone,
            shape-checked; the optimizer, the schedule, the step and the data order start afresh, unlike
            `--ckpt_path`, which resumes. Not saved in the checkpoint's hyper-parameters, so a fine-tuned
            checkpoint stands on its own.
    """

    def __init__(
        self,
        input_size: int = 28,
        hidden_size: int = 128,
        num_classes: int = 10,
        cell: CellKind = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        init: InitKind = "tf",
        compile: bool = False,
        label_smoothing: float = 0.0,
        init_from: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["init_from"])
        self.init_from = init_from
        self.network = RecurrentNetwork(
            input_size, hidden_size, num_classes, cell, num_layers, bidirectional, dropout, init
        )
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_loss = MeanMetric()
        self.test_loss = MeanMetric()
        self.test_ece = MulticlassCalibrationError(num_classes, n_bins=CALIBRATION_BINS, validate_args=False)
        self.test_insights = EvaluationInsights(
            num_classes, self.network.reads_in_order, cell, num_layers, hidden_size
        )

    @override
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Dropout draws from torch's generators; saving them makes a resumed run draw as an
        # uninterrupted one would (the batch order and the augmentation have seeds of their own).
        checkpoint["rng_states"] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state_all()

    @override
    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get("rng_states", {})
        if "torch" in states:
            torch.set_rng_state(states["torch"])
        if (
            "cuda" in states
            and torch.cuda.is_available()
            and len(states["cuda"]) == torch.cuda.device_count()
        ):
            torch.cuda.set_rng_state_all(states["cuda"])

    @override
    def configure_gradient_clipping(
        self,
        optimizer: Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        # A fused optimizer (`--optimizer.fused true`) under bf16: Lightning will not clip it (workarounds/).
        plugin = self.trainer.precision_plugin
        if not clip_bf16_gradients(plugin, optimizer, gradient_clip_val, gradient_clip_algorithm):
            super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    @override
    def setup(self, stage: str) -> None:
        # `setup` runs before Lightning restores a `--ckpt_path` (resuming a fine-tuning run, its weights
        # then replace these) and before the optimizer is built; `validate`, `test` and `predict` read the
        # checkpoint they are given, never this one.
        if stage == "fit" and self.init_from is not None:
            load_weights(self, Path(self.init_from), self.trainer.datamodule)

    @override
    def configure_model(self) -> None:
        if self.hparams.compile:
            self.network.compile()

    @override
    def forward(self, sequences: Tensor) -> Tensor:
        return self.network(sequences)

    def _step(
        self, batch: tuple[Tensor, Tensor], label_smoothing: float = 0.0
    ) -> tuple[Tensor, Tensor, Tensor]:
        sequences, labels = batch
        logits = self(sequences)
        return F.cross_entropy(logits, labels, label_smoothing=label_smoothing), logits, labels

    @override
    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        loss, logits, labels = self._step(batch, self.hparams.label_smoothing)
        # `self.log` is dear next to a step of this small model (Lightning moves its result buffers at each
        # call; docs/performance.md); so log, and compute the training accuracy, only on the steps whose
        # values the logger writes (every `log_every_n_steps`), as it would have anyway.
        if (self.global_step + 1) % self.trainer.log_every_n_steps == 0:
            self.train_acc(logits, labels)
            self.log("train/loss", loss)
            self.log("train/acc", self.train_acc)
        return loss

    @override
    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        loss, logits, labels = self._step(batch)
        self.val_loss(loss, weight=len(labels))
        self.val_acc(logits, labels)
        self.log("val/loss", self.val_loss)
        self.log("val/acc", self.val_acc, prog_bar=True)

    @override
    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        sequences, labels = batch
        reading = read(self.network, sequences, inside=True)  # one pass: the answer, by row, the gates
        logits = reading.logits
        loss = F.cross_entropy(logits, labels)
        self.test_loss(loss, weight=len(labels))
        self.test_acc(logits, labels)
        self.test_ece(logits.float(), labels)
        self.test_insights.update(logits, labels, sequences, reading.logits_by_row, reading.inside)
        self.log("test/loss", self.test_loss)
        self.log("test/acc", self.test_acc)
        self.log("test/ece", self.test_ece)

    @override
    def on_test_epoch_start(self) -> None:
        self.test_insights.reset()

    @override
    def predict_step(self, batch: tuple[Tensor, Tensor] | Tensor, batch_idx: int) -> tuple[Tensor, Tensor]:
        """Returns the predicted class and its softmax probability for each sequence (`read`, as `serve`)."""
        sequences = batch[0] if isinstance(batch, (tuple, list)) else batch
        confidence, digit = read(self.network, sequences).probabilities.max(dim=-1)
        return digit, confidence
