"""A trained checkpoint as a digit reader: the plain network and the way it reads images, both taken
from the checkpoint alone (its hyper-parameters, weights and sequence kind), no Lightning needed."""

import inspect
from pathlib import Path

import torch
from torch import Tensor

from rnn_lightning.checkpointing.files import load_checkpoint
from rnn_lightning.data.sequences import ToSequence
from rnn_lightning.errors import UserInputError
from rnn_lightning.model.inside import Inside, look_inside
from rnn_lightning.model.network import RecurrentNetwork

_NETWORK_ARGUMENTS = set(inspect.signature(RecurrentNetwork.__init__).parameters) - {"self"}
_PREFIX = "network."  # where the LightningModule keeps the network's weights


def probabilities(network: RecurrentNetwork, sequences: Tensor) -> tuple[Tensor, Tensor | None]:
    """What `serve` answers and `export` writes into its graph: the probabilities (batch, classes) and
    those after each row read (batch, 28, classes; None for a bidirectional network), in one pass."""
    if not network.reads_in_order:
        return network(sequences).float().softmax(-1), None
    logits, by_point = network.reading(sequences)
    return logits.float().softmax(-1), by_point.float().softmax(-1)


class DigitReader:
    """The network of a checkpoint in evaluation mode, with the sequence kind it was trained on."""

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
            reason = str(error).strip().splitlines()[0]
            raise UserInputError(f"{path} does not fit the model it describes: {reason}") from None
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
    def read(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """`images`: uint8 (batch, 28, 28) in MNIST's form. The probabilities (batch, classes) and those
        after each row read (batch, 28, classes; None for a bidirectional network), in one pass."""
        return probabilities(self.network, self.to_sequence(images.to(self.device)))

    @torch.inference_mode()
    def look_inside(self, images: Tensor, answers: Tensor) -> Inside:
        """Every layer's gates and states after each row of `images` (uint8, batch x 28 x 28), and each
        top unit's share of the logit of `answers` (batch,); the network must read in order."""
        return look_inside(self.network, self.to_sequence(images.to(self.device)), answers.to(self.device))
