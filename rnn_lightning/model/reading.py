"""Reading a digit, the one way `test`, `predict`, `serve` and `export` all do it: one pass of the recurrent
stack gives the answer, the answer after each row and, when asked, the gates and states inside, all from
the same hidden states. `DigitReader` is a checkpoint's network ready to read images, no Lightning needed.
"""

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnn_lightning.checkpointing.files import load_checkpoint
from rnn_lightning.data.sequences import ToSequence
from rnn_lightning.errors import UserInputError, first_line
from rnn_lightning.model.inside import Inside, every_layer, inside_of
from rnn_lightning.model.network import READING_POINTS, RecurrentNetwork

NOT_IN_ORDER = "a bidirectional model has no answer after each row: it reads all rows from both ends first"


@dataclass
class Reading:
    """What one pass over a batch found."""

    logits: Tensor  # (batch, classes)
    logits_by_row: Tensor | None  # (batch, rows, classes) after each row read; None: bidirectional
    inside: Inside | None = None  # of the rows asked for, in their order; None: not asked, or bidirectional

    @property
    def probabilities(self) -> Tensor:
        return self.logits.float().softmax(-1)

    @property
    def probabilities_by_row(self) -> Tensor | None:
        return None if self.logits_by_row is None else self.logits_by_row.float().softmax(-1)


def read(
    network: RecurrentNetwork,
    sequences: Tensor,
    inside: bool | Sequence[int] = False,
    points: int = READING_POINTS,
) -> Reading:
    """One pass of `network` over `sequences` (batch, steps, features). `inside`: True for the gates and
    states of every sequence, or the indices of those wanted (a batch of requests, a few of them asking);
    they come from this pass's own hidden states, in float32, for the network's answers. A bidirectional
    network has no reading in order: its `Reading` has the logits alone."""
    if not network.reads_in_order:
        return Reading(network(sequences), None)
    steps = sequences.shape[1]
    if steps % points:
        raise ValueError(f"{steps} steps do not split into {points} equal reading points")
    rows = list(range(len(sequences))) if inside is True else list(inside or ())
    outputs = every_layer(network.rnn, sequences) if rows else [network.recur(sequences)[0]]
    logits, by_row = network.read_off(outputs[-1], points)
    if not rows:
        return Reading(logits, by_row)
    if rows != list(range(len(sequences))):  # only those asked: the gates cost more than the pass
        chosen = torch.tensor(rows, device=sequences.device)
        sequences, outputs = sequences[chosen], [output[chosen] for output in outputs]
    found = inside_of(network, sequences, outputs, logits[rows].argmax(-1), points)
    return Reading(logits, by_row, found)


_NETWORK_ARGUMENTS = set(inspect.signature(RecurrentNetwork.__init__).parameters) - {"self"}
_PREFIX = "network."  # where the LightningModule keeps the network's weights


class DigitReader:
    """A checkpoint's network in evaluation mode, with the sequence kind it was trained on, taken from the
    checkpoint alone (its hyper-parameters, weights and data module's state)."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        """Loads `path`; a missing, unreadable or foreign file is a `UserInputError` of one line."""
        checkpoint, self.device = load_checkpoint(Path(path)), torch.device(device)
        hparams, state = checkpoint.get("hyper_parameters"), checkpoint["state_dict"]
        if not isinstance(hparams, dict) or "cell" not in hparams or "hidden_size" not in hparams:
            raise UserInputError(
                f"{path} is not a checkpoint of rnn_lightning's model (no cell or hidden_size)"
            )
        self.network = RecurrentNetwork(**{k: v for k, v in hparams.items() if k in _NETWORK_ARGUMENTS})
        try:
            self.network.load_state_dict(
                {k.removeprefix(_PREFIX): state[k] for k in state if k.startswith(_PREFIX)}
            )
        except RuntimeError as error:
            raise UserInputError(f"{path} does not fit the model it describes: {first_line(error)}") from None
        self.network.eval().to(self.device)
        data = checkpoint.get("MNISTDataModule") or {"sequence": "rows", "permutation": None}
        order = None if data.get("permutation") is None else torch.tensor(data["permutation"])
        self.to_sequence = ToSequence(data["sequence"], order).to(self.device)
        # What it was trained on, for `export`'s metadata: the model's and the data's hyper-parameters.
        self.hparams = hparams
        self.data_hparams = dict(checkpoint.get("datamodule_hyper_parameters") or {}) | {
            "sequence": data["sequence"]
        }

    @torch.inference_mode()
    def read(self, images: Tensor, inside: bool | Sequence[int] = False) -> Reading:
        """`images`: uint8 (batch, 28, 28) in MNIST's form; `inside` as `read`'s."""
        return read(self.network, self.to_sequence(images.to(self.device)), inside)
