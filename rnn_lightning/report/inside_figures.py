"""The test report's pictures of the inside of the network: each gate's opening after each row, and what
each unit holds at the end for each true class. Drawn from `GatesByRow` and `MemoryByDigit`."""

import matplotlib

matplotlib.use("Agg")  # headless: the figures go to files and to TensorBoard, never to a window

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

GATE_MEANING = {
    "input": "input: how much of the candidate is written",
    "forget": "forget: how much of the memory is kept",
    "cell": "cell: the candidate written to memory",
    "output": "output: how much of the memory is shown",
    "reset": "reset: how much of the old state the candidate sees",
    "update": "update: how much of the old state is kept",
    "new": "new: the candidate state",
}
TANH_GATES = ("cell", "new")  # from -1 to 1; the others are sigmoids, from 0 to 1


def gates_by_row_figure(
    gates: dict[str, Tensor], names: tuple[str, ...], title: str, xlabel: str = "rows read"
) -> Figure:
    """One panel per gate: its mean over the test images and units after each row, a band of one
    standard deviation either side, one line per layer."""
    mean, std = (gates[key].cpu().numpy() for key in ("mean", "std"))  # (layers, gates, points)
    layers, _, points = mean.shape
    figure, panels = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.8), squeeze=False)
    rows = np.arange(1, points + 1)
    for index, (name, axes) in enumerate(zip(names, panels[0], strict=True)):
        for layer in range(layers):
            line = mean[layer, index]
            label = f"layer {layer + 1}" if layers > 1 else "mean"
            (drawn,) = axes.plot(rows, line, "-", linewidth=1.6, label=label)
            spread = std[layer, index]
            axes.fill_between(rows, line - spread, line + spread, color=drawn.get_color(), alpha=0.2)
        axes.set_ylim((-1.05, 1.05) if name in TANH_GATES else (-0.02, 1.02))
        axes.set_title(GATE_MEANING.get(name, name), fontsize=9)
        axes.set_xlabel(xlabel)
        axes.set_xticks(range(0, points + 1, 7))
        axes.grid(alpha=0.3)
    panels[0][0].set_ylabel("gate value (band: ± 1 std)")
    panels[0][0].legend(loc="best", fontsize=8)
    figure.suptitle(f"{title}: each gate's opening after each row, over the test images and units")
    figure.tight_layout()
    return figure


def unit_order(mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(units in drawing order, the class each stands out for): grouped by the class whose mean is
    highest above the unit's mean over all classes, the most outstanding first within a group."""
    standing = mean - mean.mean(0, keepdims=True)
    best = standing.argmax(0)
    height = standing.max(0)
    order = np.lexsort((-height, best))
    return order, best[order]


def memory_by_digit_figure(memory: dict[str, Tensor], names: list[str], title: str) -> Figure:
    """The mean final hidden state of each top-layer unit (columns) over the test images of each true
    class (rows), the units grouped by the class they stand out for: which units stand for which class."""
    mean = memory["mean"].cpu().numpy()
    classes, units = mean.shape
    order, group = unit_order(mean)
    figure, axes = plt.subplots(figsize=(min(max(7, 4 + units * 0.075), 16), 1.6 + 0.34 * classes))
    limit = max(float(np.abs(mean).max()), 1e-6)
    image = axes.imshow(
        mean[:, order], cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest"
    )
    axes.set_yticks(range(classes), names)
    axes.set_ylabel("true class")
    starts = [0, *(np.flatnonzero(np.diff(group)) + 1)]
    for start in starts[1:]:
        axes.axvline(start - 0.5, color="black", linewidth=0.6)
    ends = [*starts[1:], units]
    axes.set_xticks([(a + b - 1) / 2 for a, b in zip(starts, ends, strict=True)],
                    [names[group[a]] for a in starts], fontsize=8)  # fmt: skip
    axes.set_xlabel(f"the {units} units, grouped by the class each stands out most for")
    figure.colorbar(image, ax=axes, label="mean final hidden state", fraction=0.03, pad=0.01)
    axes.set_title(f"{title}\nwhat each unit holds after the last row, by true class", fontsize=10)
    figure.tight_layout()
    return figure
