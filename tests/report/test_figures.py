"""What the report's pictures draw: no empty bin drawn as data, the legend clear of the bars, the
confusion shares to one decimal."""

import matplotlib.pyplot as plt
import torch
from matplotlib.collections import LineCollection

from rnn_lightning.report.figures import calibration_figure, confusion_figure


def reliability(count: list[float]) -> dict[str, torch.Tensor]:
    """15 bins and torchmetrics' extra bin for a confidence of exactly 1.0, some of them empty."""
    edges = torch.linspace(0, 1, 16)
    confidence = torch.cat([(edges[:-1] + edges[1:]) / 2, torch.ones(1)])
    accuracy = (confidence + 0.1).clamp(max=1)  # under-confident: each bar above its confidence
    return {"edges": edges, "count": torch.tensor(count), "accuracy": accuracy, "confidence": confidence}


def test_calibration_draws_no_empty_bin_and_its_legend_covers_no_bar():
    count = [0, 0, 5, 0, 40, 80, 0, 120, 200, 300, 400, 600, 900, 2000, 5000, 300]
    figure = calibration_figure(reliability(count), 0.05, "run")
    diagram, answers = figure.axes
    seen = 11  # the bins with answers, the last two merged
    assert len(diagram.patches) == seen and len(answers.patches) == seen
    assert min(bar.get_height() for bar in answers.patches) >= 1  # no stand-in height for an empty bin
    figure.canvas.draw()
    legend = diagram.get_legend().get_window_extent()
    assert not any(legend.overlaps(bar.get_window_extent()) for bar in diagram.patches)
    (lines,) = [c for c in diagram.collections if isinstance(c, LineCollection)]
    tops = sorted(bar.get_height() for bar in diagram.patches)
    levels = sorted(segment[0][1] for segment in lines.get_segments())
    assert all(level < top for level, top in zip(levels, tops, strict=True))  # not drawn on the bars
    plt.close(figure)


def test_confusion_shares_are_written_to_one_decimal():
    confusion = torch.zeros(10, 10, dtype=torch.long)
    confusion.fill_diagonal_(1000)
    confusion[0] = 0
    confusion[0, 0], confusion[0, 5] = 779, 201  # 980 zeros: 79.5% right, 20.5% taken for fives
    figure = confusion_figure(confusion, [str(d) for d in range(10)], "run")
    shares = figure.axes[1]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in shares.texts}
    assert texts[(0, 0)] == "79.5" and texts[(0, 5)] == "20.5" and texts[(1, 1)] == "100"
    assert texts[(0, 1)] == "0"
    plt.close(figure)


def test_confusion_digits_stand_upright_and_long_class_names_slant_on_x_only():
    confusion = torch.eye(10, dtype=torch.long) * 9
    digits = confusion_figure(confusion, [str(d) for d in range(10)], "run")
    for axes in digits.axes[:2]:
        rotations = {label.get_rotation() for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]}
        assert rotations == {0.0}, rotations
    plt.close(digits)
    names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Boot",
    ]
    clothes = confusion_figure(confusion, names, "run")
    assert {label.get_rotation() for label in clothes.axes[0].get_yticklabels()} == {0.0}
    assert {label.get_rotation() for label in clothes.axes[0].get_xticklabels()} == {45.0}
    plt.close(clothes)
