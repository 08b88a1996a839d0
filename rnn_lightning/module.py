"""The `LightningModule`: cross-entropy training of a `RecurrentNetwork`, one accuracy metric per stage.

The optimizer is not defined here: LightningCLI's `optimizer:` group supplies it (SGD at 0.001 in the
default config), so it can be swapped or tuned from the config without touching the code.
"""

from typing import Any, Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy
from typing_extensions import override

from rnn_lightning.errors import UserInputError
from rnn_lightning.network import CellKind, InitKind, RecurrentNetwork


class SequenceClassifier(L.LightningModule):
    """Wraps `RecurrentNetwork`; logs `train/`, `val/` and `test/` loss and accuracy to the loggers.

    Args:
        input_size: features per step; linked from the data (`data.sequence`), never set by hand.
        hidden_size: recurrent units (the tutorial's 128).
        num_classes: linked from the data.
        cell: `lstm`, `gru` or `rnn`.
        num_layers, bidirectional, dropout: the recurrent stack, as in `torch.nn.LSTM`.
        init: `tf` reproduces the TensorFlow tutorial's initialisation; `torch` keeps PyTorch's defaults.
        compile: compile the network with `torch.compile` (in place, so checkpoints keep their keys).
        gradient_clip_val, gradient_clip_algorithm: clipping, as the Trainer's arguments of these names
            (the CLI moves `--trainer.gradient_clip_val` here; see `training_step`).

    The training step is written out with Lightning's manual-optimization API (`manual_backward`, the
    `LightningOptimizer`'s `zero_grad` and `step`) rather than left to automatic optimization, which
    wraps every step in a closure and a dozen more hook calls: on this small model those cost about 5%
    of a CPU step (`benchmarks/throughput.py`). The order and the result are those of automatic
    optimization, bit for bit (`tests/test_module.py`); clipping and epoch-wise scheduler steps, which
    Lightning does only under automatic optimization, are done here in the same places.
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
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: Literal["norm", "value"] = "norm",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.network = RecurrentNetwork(
            input_size, hidden_size, num_classes, cell, num_layers, bidirectional, dropout, init
        )
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_loss = MeanMetric()
        self.test_loss = MeanMetric()

    @override
    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning's trainer sets `_current_fx_name` before and after every hook call, some forty times a
        # training step; `nn.Module.__setattr__` checks parameters, modules and buffers each time, which
        # costs more than all of Lightning's other per-step bookkeeping on this small model. The name is a
        # plain string attribute, so it skips those checks.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

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
    def configure_model(self) -> None:
        if self.hparams.compile:
            self.network.compile()

    @override
    def forward(self, sequences: Tensor) -> Tensor:
        return self.network(sequences)

    def _step(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        sequences, labels = batch
        logits = self(sequences)
        return F.cross_entropy(logits, labels), logits, labels

    @override
    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> dict[str, Tensor]:
        loss, logits, labels = self._step(batch)
        # `self.log` costs about 0.5 ms a call on CPU (Lightning moves its result buffers each time), a
        # tenth of a step of this small model; so log, and compute the training accuracy, only on the
        # steps whose values the logger writes (every `log_every_n_steps`), as it would have anyway.
        if (self.global_step + 1) % self.trainer.log_every_n_steps == 0:
            self.train_acc(logits, labels)
            self.log("train/loss", loss)
            self.log("train/acc", self.train_acc)
        # What automatic optimization does, in its order: zero the gradients, backward, step (the
        # clipping happens inside `step`, in `on_before_optimizer_step`, after any AMP unscaling).
        optimizer = self.optimizers()
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()
        return {"loss": loss.detach(), "logits": logits.detach()}

    @override
    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Where Lightning clips under automatic optimization: after the gradients are final and unscaled.
        if self.hparams.gradient_clip_val:
            self.clip_gradients(
                optimizer,
                gradient_clip_val=self.hparams.gradient_clip_val,
                gradient_clip_algorithm=self.hparams.gradient_clip_algorithm,
            )

    @override
    def on_train_epoch_end(self) -> None:
        # LightningCLI's schedulers step once an epoch, after validation; Lightning calls them for
        # automatic optimization only.
        for config in self.trainer.lr_scheduler_configs:
            scheduler = config.scheduler
            if isinstance(scheduler, ReduceLROnPlateau):
                monitor = getattr(scheduler, "monitor", None)  # LightningCLI's ReduceLROnPlateau names it
                if monitor not in self.trainer.callback_metrics:
                    raise UserInputError(
                        f"lr_scheduler ReduceLROnPlateau monitors {monitor!r}, which is not logged; "
                        "use one of: " + ", ".join(sorted(self.trainer.callback_metrics))
                    )
                scheduler.step(self.trainer.callback_metrics[monitor])
            else:
                scheduler.step()

    @override
    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        loss, logits, labels = self._step(batch)
        self.val_loss(loss, weight=len(labels))
        self.val_acc(logits, labels)
        self.log("val/loss", self.val_loss)
        self.log("val/acc", self.val_acc, prog_bar=True)

    @override
    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        loss, logits, labels = self._step(batch)
        self.test_loss(loss, weight=len(labels))
        self.test_acc(logits, labels)
        self.log("test/loss", self.test_loss)
        self.log("test/acc", self.test_acc)

    @override
    def predict_step(self, batch: tuple[Tensor, Tensor] | Tensor, batch_idx: int) -> tuple[Tensor, Tensor]:
        """Returns the predicted class and its softmax probability for each sequence."""
        sequences = batch[0] if isinstance(batch, (tuple, list)) else batch
        probabilities = torch.softmax(self(sequences), dim=-1)
        confidence, digit = probabilities.max(dim=-1)
        return digit, confidence
