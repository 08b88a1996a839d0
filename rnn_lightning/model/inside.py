"""Inside a one-directional `RecurrentNetwork`: every layer's gates and states at each reading point,
recomputed step by step from the trained weights with PyTorch's own equations and gate order (the
`nn.LSTM`, `nn.GRU` and `nn.RNN` docs), so what is shown is what the module computed (tests hold them
equal). One place for the serving API and the test report.
"""

from dataclasses import dataclass

import torch
from torch import Tensor

from rnn_lightning.model.network import READING_POINTS, RecurrentNetwork

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


def _weights(rnn: torch.nn.RNNBase, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
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


def _layer(cell: str, nonlinearity: str, inputs: Tensor, weights, stride: int):
    """Runs one layer over `inputs` (batch, steps, features): its outputs at every step (the next
    layer's input) and its gates and states at every `stride`-th step."""
    w_ih, b_ih, w_hh, b_hh = weights
    batch, steps, _ = inputs.shape
    units = w_hh.shape[1]
    projected = torch.addmm(b_ih, inputs.reshape(batch * steps, -1), w_ih.t()).view(batch, steps, -1)
    h = inputs.new_zeros(batch, units)
    c = torch.zeros_like(h)
    outputs, kept = [], {name: [] for name in (*GATE_NAMES[cell], "cell_state", "hidden")}
    for step in range(steps):
        recurrent = torch.addmm(b_hh, h, w_hh.t())
        if cell == "lstm":
            i, f, g, o = (projected[:, step] + recurrent).chunk(4, -1)
            gates = (i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid())
            c = gates[1] * c + gates[0] * gates[2]
            h = gates[3] * c.tanh()
        elif cell == "gru":
            x_r, x_z, x_n = projected[:, step].chunk(3, -1)
            h_r, h_z, h_n = recurrent.chunk(3, -1)
            r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
            n = (x_n + r * h_n).tanh()
            gates = (r, z, n)
            h = (1 - z) * n + z * h
        else:
            total = projected[:, step] + recurrent
            gates, h = (), total.tanh() if nonlinearity == "tanh" else total.relu()
        outputs.append(h)
        if (step + 1) % stride == 0:
            for name, value in zip(GATE_NAMES[cell], gates, strict=True):
                kept[name].append(value)
            kept["cell_state"].append(c)
            kept["hidden"].append(h)
    stacked = {name: torch.stack(values, 1) for name, values in kept.items()}
    found = LayerInside(
        gates={name: stacked[name] for name in GATE_NAMES[cell]},
        hidden=stacked["hidden"],
        cell_state=stacked["cell_state"] if cell == "lstm" else None,
    )
    return torch.stack(outputs, 1), found


@torch.no_grad()
def look_inside(
    network: RecurrentNetwork, sequences: Tensor, answer: Tensor | None = None, points: int = READING_POINTS
) -> Inside:
    """Every layer's gates and states at each of `points` reading points of `sequences` (batch, steps,
    features), the end of each row whatever the sequence kind, as `RecurrentNetwork.reading` reads.

    In float32 whatever the network's precision, the model as in evaluation (no dropout between layers).
    `answer` (batch,): the class whose logit the contributions make up; by default the network's answer.
    """
    if not network.reads_in_order:
        raise ValueError("a bidirectional network has no reading in order: both directions see it all")
    steps = sequences.shape[1]
    if steps % points:
        raise ValueError(f"{steps} steps do not split into {points} equal reading points")
    rnn = network.rnn
    nonlinearity = getattr(rnn, "nonlinearity", "tanh")
    with torch.autocast(sequences.device.type, enabled=False):
        inputs, layers = sequences.float(), []
        for layer in range(rnn.num_layers):
            inputs, found = _layer(network.cell, nonlinearity, inputs, _weights(rnn, layer), steps // points)
            layers.append(found)
        final = layers[-1].hidden[:, -1]
        head = network.head.weight.float()
        if answer is None:
            answer = (final @ head.t() + network.head.bias.float()).argmax(-1)
        contribution = final * head[answer.to(final.device)]
    return Inside(network.cell, layers, answer, contribution)
