"""The tutorial's performance chart: minibatch training accuracy against step, validation beside it."""

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # headless: the figure goes to a file and to TensorBoard, never to a window

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def performance_figure(
    steps: Sequence[int],
    accuracies: Sequence[float],
    val_steps: Sequence[int] = (),
    val_accuracies: Sequence[float] = (),
) -> Figure:
    """Draws training accuracy as points, as the tutorial's `plt.plot(steps, acc, 'ro')` did."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.plot(steps, accuracies, "ro", markersize=4, label="RNN Training phase")
    if val_steps:
        axes.plot(val_steps, val_accuracies, "b^-", markersize=5, label="Validation (5,000 images)")
    axes.set_xlabel("step")
    axes.set_ylabel("accuracy")
    axes.set_ylim(0.0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    axes.set_title("LSTM on MNIST rows")
    figure.tight_layout()
    return figure
