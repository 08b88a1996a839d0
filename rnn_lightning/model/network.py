"""The plain `nn.Module`: a recurrent layer over the sequence and a linear head on its last step.

`reading` is the same network answering after every row: the head applied to the top layer's output
at each reading point, which serving shows live and the test report turns into accuracy by row.
"""

import math
from typing import Literal

import torch
from torch import Tensor, nn

from rnn_lightning.workarounds.onednn_lstm_autocast import run_recurrent

CellKind = Literal["lstm", "gru", "rnn"]
InitKind = Literal["tf", "torch", "orthogonal"]
_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
READING_POINTS = 28  # an MNIST image has 28 rows: the answer is read off after each


class RecurrentNetwork(nn.Module):
    """Classifies a sequence (batch, steps, input_size) by the recurrent stack's final hidden state."""

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
    ) -> None:
        super().__init__()
        if not 0 <= dropout <= 1:  # PyTorch checks it only where it acts: between stacked layers
            raise ValueError(f"dropout must be between 0 and 1, got {dropout}")
        self.cell = cell
        self.rnn = _CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)
        if init == "tf":
            tf_initialise(self)
        elif init == "orthogonal":
            orthogonal_recurrence(self)

    @property
    def reads_in_order(self) -> bool:
        """Whether the answer after k steps means anything: only a one-directional stack has read just
        the first k steps then; a bidirectional one's backward half has already seen the whole image."""
        return not self.rnn.bidirectional

    def reading(self, sequences: Tensor, points: int = READING_POINTS) -> tuple[Tensor, Tensor]:
        """(logits, logits after each reading point): (batch, classes) and (batch, points, classes).

        Reading point k is the end of the k-th of `points` equal parts of the sequence (a row of 28
        pixels, whether the sequence is 28 rows or 784 pixels). One pass: the final logits are the last
        point's, equal to `forward`'s, since the top layer's output at the last step is its final state.
        """
        if not self.reads_in_order:
            raise ValueError("a bidirectional network has no reading in order: both directions see it all")
        steps = sequences.shape[1]
        if steps % points:
            raise ValueError(f"{steps} steps do not split into {points} equal reading points")
        return self.read_off(self.recur(sequences)[0], points)

    def read_off(self, outputs: Tensor, points: int = READING_POINTS) -> tuple[Tensor, Tensor]:
        """`reading` from the top layer's outputs at every step (batch, steps, units), already computed."""
        stride = outputs.shape[1] // points
        by_point = self.head(outputs[:, stride - 1 :: stride])
        return by_point[:, -1], by_point

    def recur(self, sequences: Tensor) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        """The recurrent stack over `sequences`: (outputs at every step, final state). Under CPU autocast
        on a CPU whose oneDNN has no LSTM kernel in autocast's dtype, the LSTM computes in fp32
        (workarounds/onednn_lstm_autocast.py)."""
        return run_recurrent(self.rnn, sequences)

    def forward(self, sequences: Tensor) -> Tensor:
        _, state = self.recur(sequences)
        hidden = state[0] if isinstance(state, tuple) else state  # the LSTM returns (h_n, c_n)
        # The top layer's final state in each direction: the output at the last step reading forward,
        # at the first step reading backward (where the backward pass ends).
        top = hidden[-2:] if self.rnn.bidirectional else hidden[-1:]
        return self.head(torch.cat(list(top), dim=-1))


@torch.no_grad()
def tf_initialise(network: RecurrentNetwork) -> None:
    """Initialise as the TensorFlow 1 tutorial did, which is what lets plain SGD at 0.001 learn at all.

    TF's cell keeps one kernel of shape (input + hidden, gates * hidden) with Glorot-uniform values, so each
    recurrent weight is uniform in +-sqrt(6 / (input + hidden + gates * hidden)); biases are zero, with the
    LSTM's forget gate at 1.0 (`forget_bias=1.0`; PyTorch orders the gates i, f, g, o and adds two bias
    vectors, so only `bias_ih`'s f block gets it). The head is drawn from N(0, 1) (`tf.random_normal`).
    """
    rnn, hidden = network.rnn, network.rnn.hidden_size
    gates = _GATES[network.cell]
    for name, parameter in rnn.named_parameters():
        if name.startswith("weight_ih"):
            limit = math.sqrt(6.0 / (parameter.shape[1] + hidden + gates * hidden))
            parameter.uniform_(-limit, limit)
            # weight_hh of the same layer and direction shares the joint kernel's bound.
            getattr(rnn, name.replace("weight_ih", "weight_hh")).uniform_(-limit, limit)
        elif name.startswith("bias"):
            parameter.zero_()
            if network.cell == "lstm" and name.startswith("bias_ih"):
                parameter[hidden : 2 * hidden] = 1.0
    nn.init.normal_(network.head.weight)
    nn.init.normal_(network.head.bias)


@torch.no_grad()
def orthogonal_recurrence(network: RecurrentNetwork) -> None:
    """PyTorch's initialisation, but each gate's recurrent matrix (hidden x hidden) a random orthogonal one:
    it turns the state without shrinking or stretching it in any direction, the usual reason for it in
    recurrent networks. What it brought the speedrun: docs/time_to_accuracy.md ("What paid")."""
    gates = _GATES[network.cell]
    for name, parameter in network.rnn.named_parameters():
        if name.startswith("weight_hh"):
            for block in parameter.chunk(gates, dim=0):
                nn.init.orthogonal_(block)
