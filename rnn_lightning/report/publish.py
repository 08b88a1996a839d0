"""A figure written to its PNG file and to TensorBoard from one rendering."""

import io
from pathlib import Path

import matplotlib.pyplot as plt
from lightning.pytorch.loggers import Logger, TensorBoardLogger
from matplotlib.figure import Figure

from rnn_lightning.workarounds.tensorboard_png import add_png


def publish(figure: Figure, path: Path, tag: str, loggers: list[Logger], step: int, dpi: int = 110) -> None:
    """Saves `figure` as `path` and adds the same PNG to every TensorBoard logger under `tag`, then closes
    it; the figure is drawn once."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    data = buffer.getvalue()
    Path(path).write_bytes(data)
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            add_png(logger.experiment, tag, data, step)
