"""The run's pictures: the tutorial's performance chart and what the test pass found. Each titles itself
with what was trained (`model/description.py`), so a figure read on its own says which run it is from."""

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # headless: the figures go to files and to TensorBoard, never to a window

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from torch import Tensor
from torchmetrics.utilities.plot import plot_confusion_matrix


def _error_axis(axes) -> None:
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # labels even within one decade
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.grid(alpha=0.3, which="both")


def performance_figure(
    steps: Sequence[int],
    accuracies: Sequence[float],
    val_steps: Sequence[int] = (),
    val_accuracies: Sequence[float] = (),
    title: str = "LSTM on MNIST rows",
    val_size: int = 5000,
) -> Figure:
    """Left, training accuracy as points, as the tutorial's `plt.plot(steps, acc, 'ro')` drew it; right,
    the error rate (1 - accuracy) on a log axis, where a run between 98% and 100% is still readable."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    train_label, val_label = "training minibatch", f"validation ({val_size:,} images)"
    left.plot(steps, accuracies, "ro", markersize=4, label=train_label)
    if val_steps:
        left.plot(val_steps, val_accuracies, "b^-", markersize=5, label=val_label)
    errors = 1.0 - np.asarray(accuracies, dtype=float)
    val_errors = 1.0 - np.asarray(val_accuracies, dtype=float)
    # A minibatch with no error has no place on a log axis: it is drawn on the axis' floor, half the
    # smallest error seen, as a marker of its own (a floor far below would flatten the rest of the curve).
    seen = np.concatenate([errors, val_errors])
    floor = seen[seen > 0].min() / 2 if (seen > 0).any() else 1e-3
    perfect = errors <= 0
    right.plot(np.asarray(steps)[~perfect], errors[~perfect], "ro", markersize=4, label=train_label)
    if val_steps:
        right.plot(val_steps, np.clip(val_errors, floor, None), "b^-", markersize=5, label=val_label)
    if perfect.any():
        right.plot(
            np.asarray(steps)[perfect],
            np.full(perfect.sum(), floor),
            "rv",
            markersize=5,
            label="training minibatch without an error",
        )
    left.set_ylim(0.0, 1.02)
    left.set_ylabel("accuracy")
    left.grid(alpha=0.3)
    left.legend(loc="lower right")
    _error_axis(right)
    right.set_ylabel("error rate (log)")
    right.legend(loc="upper right")
    for axes in (left, right):
        axes.set_xlabel("step")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_figure(confusion: Tensor, labels: list[str], title: str) -> Figure:
    """The confusion matrix twice, with torchmetrics' own plot: counts, and each row as shares of its
    true class (the recall of each class on the diagonal), written to one decimal (torchmetrics writes
    a cell's value as it is, so whole percentages would print 79.0 for 779 of 980, which is 79.5%)."""
    figure, (counts, shares) = plt.subplots(1, 2, figsize=(14, 6.5))
    confusion = confusion.cpu()
    plot_confusion_matrix(confusion, ax=counts, labels=labels)
    percent = confusion / confusion.sum(1, keepdim=True).clamp(min=1) * 100
    plot_confusion_matrix(percent, ax=shares, labels=labels, add_text=False)
    image = shares.images[0]
    for (row, column), value in np.ndenumerate(percent.numpy()):
        text = f"{value:.1f}".removesuffix(".0")
        colour = "white" if _luminance(image.cmap(image.norm(value))) <= 0.4 else ".1"  # as torchmetrics
        shares.text(column, row, text, ha="center", va="center", fontsize=13, color=colour)
    counts.set_title(f"counts ({int(confusion.sum()):,} test images)")
    shares.set_title("% of each true class")
    short = all(len(label) <= 2 for label in labels)  # digits: upright; Fashion-MNIST's names slant
    for axes in (counts, shares):
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        # torchmetrics slants the tick labels (x 45 degrees, y 25); a class name reads level on the y axis.
        axes.tick_params(axis="y", labelrotation=0)
        if short:
            axes.tick_params(axis="x", labelrotation=0)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def _luminance(rgba: tuple[float, float, float, float]) -> float:
    """Relative luminance of a colour (the rule torchmetrics uses to pick dark or white cell text)."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def mistakes_figure(
    images: Tensor, labels: Tensor, predicted: Tensor, probability: Tensor, names: list[str], title: str
) -> Figure:
    """The most confidently wrong test images, most confident first, each with truth and answer. One
    mosaic in one axes: a grid of subplots takes several times as long to draw."""
    count, columns, gap = len(images), 8, 10
    rows = max(1, -(-count // columns))
    cell = 28 + gap
    mosaic = np.full((rows * cell, columns * cell), 255.0)
    figure, axes = plt.subplots(figsize=(1.5 * columns, 1.75 * rows + 0.5))
    for index in range(count):
        top, left = (index // columns) * cell + gap, (index % columns) * cell + gap // 2
        mosaic[top : top + 28, left : left + 28] = images[index].cpu().numpy()
        caption = f"{names[labels[index]]} as {names[predicted[index]]} {probability[index]:.0%}"
        axes.text(left + 14, top - 1, caption, ha="center", va="bottom", fontsize=7)
    axes.imshow(mosaic, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    axes.axis("off")
    if not count:
        axes.text(0.5, 0.5, "no mistakes", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(
        f"{title}: the {count} most confident mistakes (true as answered, probability)", fontsize=10
    )
    figure.tight_layout()
    return figure


def accuracy_by_row_figure(accuracy: Sequence[float], title: str, xlabel: str = "rows read") -> Figure:
    """Test accuracy if the model had to answer after reading 1, 2, ... 28 rows: accuracy, and the
    error rate on a log axis, where the last rows' gains are visible."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    points = np.arange(1, len(accuracy) + 1)
    accuracy = np.asarray(accuracy, dtype=float)
    left.plot(points, accuracy, "o-", color="tab:green", markersize=4)
    left.axhline(0.1, color="gray", linewidth=0.8, linestyle=":", label="chance")
    left.set_ylim(0, 1.02)
    left.set_ylabel("test accuracy")
    left.legend(loc="lower right")
    left.grid(alpha=0.3)
    right.plot(points, np.clip(1 - accuracy, 1e-4, None), "o-", color="tab:red", markersize=4)
    _error_axis(right)
    right.set_ylabel("test error rate (log)")
    for axes in (left, right):
        axes.set_xlabel(xlabel)
        axes.set_xticks(range(0, len(points) + 1, 4))
    figure.suptitle(f"{title}: answering early")
    figure.tight_layout()
    return figure


def calibration_figure(reliability: dict[str, Tensor], ece: float, title: str) -> Figure:
    """The reliability diagram: each confidence bin's accuracy as a bar, its mean confidence as a line
    across it (calibrated: the bar's top on that line), and how many answers fall in each bin. Empty
    bins are left empty in both panels; the legend sits above the bars so it covers none."""
    figure, (diagram, counts) = plt.subplots(
        2, 1, figsize=(6, 7.4), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    edges = reliability["edges"].cpu().numpy()
    count = reliability["count"].cpu().numpy().copy()
    accuracy = reliability["accuracy"].cpu().numpy().copy()
    confidence = reliability["confidence"].cpu().numpy().copy()
    # torchmetrics keeps a confidence of exactly 1.0 in a bin of its own; draw it with the top bin
    last = len(edges) - 2
    merged = count[last] + count[-1]
    if merged:
        accuracy[last] = (accuracy[last] * count[last] + accuracy[-1] * count[-1]) / merged
        confidence[last] = (confidence[last] * count[last] + confidence[-1] * count[-1]) / merged
    count[last] = merged
    seen = count[:-1] > 0
    centres, width = ((edges[:-1] + edges[1:]) / 2)[seen], (edges[1] - edges[0]) * 0.9
    count, accuracy, confidence = count[:-1][seen], accuracy[:-1][seen], confidence[:-1][seen]
    diagram.bar(centres, accuracy, width=width, color="tab:blue", label="accuracy of the bin")
    diagram.hlines(
        confidence, centres - width / 2, centres + width / 2, colors="black", linewidth=2,
        label="mean confidence of the bin",
    )  # fmt: skip
    diagram.plot([0, 1], [0, 1], "--", color="gray", label="perfectly calibrated")
    diagram.set_ylabel("accuracy in the bin")
    diagram.set_xlim(0, 1)
    diagram.set_ylim(0, 1.02)
    diagram.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=9)
    figure.suptitle(f"{title}\nexpected calibration error {ece:.4f}")
    counts.bar(centres, count, width=width, color="tab:gray")
    counts.set_yscale("log")
    counts.set_xlabel("confidence (probability of the answer)")
    counts.set_ylabel("answers")
    figure.tight_layout()
    return figure
