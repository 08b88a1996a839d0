"""A trained checkpoint as a digit reader: images in MNIST's form in, probabilities and the row-by-row
reading out. The checkpoint alone is enough: the model's hyper-parameters and how it read images
(rows, pixels, or permuted with its own pixel order) are saved in it."""

import inspect
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnn_lightning.checkpoint_file import load_checkpoint
from rnn_lightning.errors import UserInputError
from rnn_lightning.module import SequenceClassifier
from rnn_lightning.sequences import ToSequence

_MODEL_ARGUMENTS = set(inspect.signature(SequenceClassifier.__init__).parameters) - {"self"}


@dataclass
class Reading:
    """What the model made of a batch of images."""

    probabilities: Tensor  # (batch, classes)
    steps: Tensor | None  # (batch, 28, classes): the probabilities after each row; None if bidirectional


class DigitReader:
    """The network of a checkpoint in evaluation mode, with the sequence kind it was trained on."""

    def __init__(self, model: SequenceClassifier, to_sequence: ToSequence) -> None:
        self.model, self.to_sequence = model.eval(), to_sequence

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> "DigitReader":
        """Loads `path`; a missing, unreadable or foreign file is a `UserInputError` of one line."""
        path = Path(path)
        checkpoint = load_checkpoint(path)
        hparams = checkpoint.get("hyper_parameters")
        if not isinstance(hparams, dict) or "cell" not in hparams or "hidden_size" not in hparams:
            raise UserInputError(
                f"{path} is not a checkpoint of rnn_lightning's model (no cell, hidden_size)"
            )
        arguments = {name: value for name, value in hparams.items() if name in _MODEL_ARGUMENTS}
        arguments["compile"] = False  # serving runs the plain network
        model = SequenceClassifier(**arguments)
        try:
            model.load_state_dict(checkpoint["state_dict"])
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[0]
            raise UserInputError(f"{path} does not fit the model it describes: {reason}") from None
        data = checkpoint.get("MNISTDataModule") or {"sequence": "rows", "permutation": None}
        permutation = data.get("permutation")
        to_sequence = ToSequence(data["sequence"], None if permutation is None else torch.tensor(permutation))
        return cls(model.to(device), to_sequence.to(torch.device(device)))

    @torch.inference_mode()
    def read(self, images: Tensor) -> Reading:
        """`images`: uint8 (batch, 28, 28) in MNIST's form. One pass of the network for both answers."""
        sequences = self.to_sequence(images.to(self.model.device))
        logits, by_point = self.model.reading(sequences)
        steps = None if by_point is None else by_point.float().softmax(-1)
        return Reading(logits.float().softmax(-1), steps)
