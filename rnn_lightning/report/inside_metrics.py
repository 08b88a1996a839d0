"""The test pass's view inside the network, as torchmetrics states summed over processes (DDP counts each
image once): each gate's mean opening and spread at each row, and each unit's mean final hidden state
for each true class. Updated from the test pass's `Reading.inside` (`rnn_lightning/model/reading.py`)."""

import torch
from torch import Tensor
from torchmetrics import Metric
from typing_extensions import override

from rnn_lightning.model.inside import GATE_NAMES, Inside
from rnn_lightning.model.network import READING_POINTS


class GatesByRow(Metric):
    """Per layer, gate and row: the mean and standard deviation of the gate's values over every image
    and unit, from summed values and squares. For the LSTM and the GRU: a plain RNN has no gates."""

    full_state_update = False

    def __init__(self, cell: str, num_layers: int, points: int = READING_POINTS, **kwargs) -> None:
        super().__init__(**kwargs)
        if not GATE_NAMES[cell]:
            raise ValueError(f"a {cell} has no gates")
        self.names = GATE_NAMES[cell]
        shape = (num_layers, len(self.names), points)
        for name in ("total", "squares"):
            self.add_state(name, torch.zeros(shape, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.float64), dist_reduce_fx="sum")

    @override
    def update(self, inside: Inside) -> None:
        for layer, found in enumerate(inside.layers):
            for index, name in enumerate(self.names):
                values = found.gates[name]  # (batch, points, units)
                # each image's units summed in float32 (a layer's width of values in [-1, 1]: rounding
                # near 1e-7, under the CSV's six decimals), then the images in float64, so that it does
                # not grow with the test set; one float64 reduction over the whole batch was slower
                # (docs/time_to_accuracy.md)
                self.total[layer, index] += values.sum(2).sum(0, dtype=torch.float64)
                squares = torch.linalg.vector_norm(values, dim=2).square()
                self.squares[layer, index] += squares.sum(0, dtype=torch.float64)
        self.count += inside.contribution.numel()  # images x units

    @override
    def compute(self) -> dict[str, Tensor]:
        count = self.count.clamp(min=1)
        mean = self.total / count
        return {"mean": mean, "std": (self.squares / count - mean.square()).clamp(min=0).sqrt()}


class MemoryByDigit(Metric):
    """Each top-layer unit's mean final hidden state over the images of each true class."""

    full_state_update = False

    def __init__(self, num_classes: int, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("total", torch.zeros(num_classes, units, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.zeros(num_classes, dtype=torch.float64), dist_reduce_fx="sum")

    @override
    def update(self, inside: Inside, labels: Tensor) -> None:
        final = inside.layers[-1].hidden[:, -1].double()
        self.total.index_add_(0, labels, final)
        self.count.index_add_(0, labels, torch.ones_like(labels, dtype=torch.float64))

    @override
    def compute(self) -> dict[str, Tensor]:
        return {"mean": self.total / self.count.clamp(min=1)[:, None], "images": self.count}
