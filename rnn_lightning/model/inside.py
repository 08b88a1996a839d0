"""Inside a one-directional `RecurrentNetwork`: every layer's gates and states at each reading point.
The hidden states are the pass's own (`every_layer`: each layer by PyTorch's fused kernel); the gates and
the LSTM's memory are recomputed from them and the trained weights with PyTorch's own equations and gate
order (the `nn.LSTM`, `nn.GRU` and `nn.RNN` docs), in batched products rather than a step-by-step loop,
so that the test pass can afford them (tests hold the equations between what is reported).
`model/reading.py` runs the pass and asks for these.
"""

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnn_lightning.model.network import READING_POINTS, RecurrentNetwork
from rnn_lightning.workarounds.onednn_lstm_autocast import run_recurrent

GATE_NAMES = {
    "lstm": ("input", "forget", "cell", "output"),  # i, f, g, o: the row blocks of weight_ih_l{k}
    "gru": ("reset", "update", "new"),  # r, z, n
    "rnn": (),
}


@dataclass
class LayerInside:
    """One layer at each reading point: tensors of (batch, points, units)."""

    gates: dict[str, Tensor]
    hidden: Tensor
    cell_state: Tensor | None = None  # the LSTM's memory c; None for the GRU and the plain RNN


@dataclass
class Inside:
    """The whole stack, bottom layer first, and each top-layer unit's share of the answer's logit."""

    cell: str
    layers: list[LayerInside]
    answer: Tensor  # (batch,) the class the contributions are for
    contribution: Tensor  # (batch, units): final top hidden value x the head's weight for `answer`

    @property
    def units(self) -> int:
        return self.layers[-1].hidden.shape[-1]


def _weights(rnn: nn.RNNBase, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(W_ih, b_ih, W_hh, b_hh) of `layer`, in float32 (zeros for a stack without biases)."""
    w_ih, w_hh = (getattr(rnn, f"{name}_l{layer}").float() for name in ("weight_ih", "weight_hh"))
    b_ih, b_hh = (
        w.new_zeros(w.shape[0]) if b is None else b.float()
        for w, b in (
            (w_ih, getattr(rnn, f"bias_ih_l{layer}", None)),
            (w_hh, getattr(rnn, f"bias_hh_l{layer}", None)),
        )
    )
    return w_ih, b_ih, w_hh, b_hh


def _alone(rnn: nn.RNNBase, layer: int) -> nn.RNNBase:
    """Layer `layer` of the stack as a module of its own kind, sharing the stack's weights (in their own
    dtype): its outputs at every step are the layer's hidden states, from PyTorch's own fused kernel, as
    the stack computes them in evaluation (no dropout between layers)."""
    options = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    size = rnn.input_size if layer == 0 else rnn.hidden_size
    single = type(rnn)(size, rnn.hidden_size, bias=rnn.bias, batch_first=True, device="meta", **options)
    weights = {name.rsplit("_l", 1)[0] + "_l0": value for name, value in rnn.named_parameters()
               if name.rsplit("_l", 1)[1] == str(layer)}  # fmt: skip
    single.load_state_dict(weights, assign=True)
    single.flatten_parameters()  # one block of memory, as cuDNN wants it
    return single


def every_layer(rnn: nn.RNNBase, sequences: Tensor) -> list[Tensor]:
    """One pass of a one-directional stack over `sequences`: every layer's outputs at every step (batch,
    steps, units), bottom first; the top one is what the stack itself returns. `nn.LSTM` returns only the
    top layer's, so a deeper stack runs a layer at a time, each by the fused kernel (in fp32 where the CPU's
    oneDNN needs it: `run_recurrent`)."""
    if rnn.num_layers == 1:
        return [run_recurrent(rnn, sequences)[0]]
    outputs = []
    for layer in range(rnn.num_layers):
        outputs.append(run_recurrent(_alone(rnn, layer), outputs[-1] if outputs else sequences)[0])
    return outputs


def _layer(cell: str, inputs: Tensor, weights, stride: int, hidden: Tensor) -> LayerInside:
    """One layer's gates and states at every `stride`-th step, given its input (batch, steps, features)
    and its hidden state at every step (its outputs): the gates from the previous step's hidden state
    by PyTorch's equations, in batched products; the LSTM's memory c by its update, step by step."""
    w_ih, b_ih, w_hh, b_hh = weights
    batch, steps, _ = inputs.shape
    previous = torch.cat([hidden.new_zeros(batch, 1, hidden.shape[-1]), hidden[:, :-1]], 1)
    kept = slice(stride - 1, None, stride)
    at_points = hidden[:, kept].contiguous()  # its own memory: numpy and orjson take it as it is
    if cell == "rnn":
        return LayerInside(gates={}, hidden=at_points)
    if cell == "gru":  # only the reading points' gates are needed: h is known
        x_r, x_z, x_n = (inputs[:, kept] @ w_ih.t() + b_ih).chunk(3, -1)
        h_r, h_z, h_n = (previous[:, kept] @ w_hh.t() + b_hh).chunk(3, -1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        gates = dict(zip(GATE_NAMES["gru"], (r, z, (x_n + r * h_n).tanh()), strict=True))
        return LayerInside(gates=gates, hidden=at_points)
    # The LSTM's memory needs every step's gates: computed a span of steps at a time (784 steps at once
    # would be large), each span a whole number of reading points.
    span = stride * max(1, READING_POINTS // stride)
    c, found, cells = hidden.new_zeros(batch, hidden.shape[-1]), {name: [] for name in GATE_NAMES["lstm"]}, []
    for start in range(0, steps, span):
        part = slice(start, start + span)
        x, h = (t[:, part].reshape(-1, t.shape[-1]) for t in (inputs, previous))
        total = torch.addmm(b_ih + b_hh, x, w_ih.t()).addmm_(h, w_hh.t()).view(batch, -1, w_hh.shape[0])
        i, f, g, o = total.chunk(4, -1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        for step in range(total.shape[1]):
            c = f[:, step] * c + i[:, step] * g[:, step]
            if (step + 1) % stride == 0:
                cells.append(c)
        for name, value in zip(GATE_NAMES["lstm"], (i, f, g, o), strict=True):
            found[name].append(value[:, kept])
    gates = {name: torch.cat(values, 1) for name, values in found.items()}
    return LayerInside(gates=gates, hidden=at_points, cell_state=torch.stack(cells, 1))


@torch.no_grad()
def inside_of(
    network: RecurrentNetwork,
    sequences: Tensor,
    outputs: list[Tensor],
    answer: Tensor,
    points: int = READING_POINTS,
) -> Inside:
    """Every layer's gates and states at each of `points` reading points of `sequences` (batch, steps,
    features), the end of each row whatever the sequence kind, from `outputs`, every layer's outputs at
    every step of the same pass (`every_layer`); `answer` (batch,): the class whose logit the
    contributions make up. In float32 whatever the pass's precision."""
    steps = sequences.shape[1]
    with torch.autocast(sequences.device.type, enabled=False):
        inputs, layers = sequences.float(), []
        for layer, hidden in enumerate(outputs):
            hidden = hidden.float()
            layers.append(_layer(network.cell, inputs, _weights(network.rnn, layer), steps // points, hidden))
            inputs = hidden
        final = layers[-1].hidden[:, -1]
        contribution = final * network.head.weight.float()[answer.to(final.device)]
    return Inside(network.cell, layers, answer, contribution)
