"""A picture goes to its PNG file and, byte for byte, to TensorBoard."""

import io

import matplotlib.pyplot as plt
import pytest
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rnn_lightning.report.publish import publish


def images_in(log_dir, tag):
    found = []
    for events in sorted(log_dir.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"images": 0})
        accumulator.Reload()
        if tag in accumulator.Tags()["images"]:
            found += accumulator.Images(tag)
    return found


@pytest.mark.parametrize("closed", [False, True])
def test_tensorboard_holds_the_very_png_of_the_file(tmp_path, closed):
    logger = TensorBoardLogger(tmp_path, name="run", version=0)
    if closed:  # as Lightning leaves it after a run: the report of a finished test must still arrive
        logger.experiment.close()
    figure, axes = plt.subplots(figsize=(3, 2))
    axes.plot([0, 1, 2], [1, 0, 1])
    path = tmp_path / "picture.png"
    publish(figure, path, "test/picture", [CSVLogger(tmp_path), logger], step=7, dpi=50)
    png = path.read_bytes()
    (image,) = images_in(tmp_path / "run" / "version_0", "test/picture")
    assert image.step == 7 and image.encoded_image_string == png
    with Image.open(io.BytesIO(png)) as picture:
        assert (image.width, image.height) == picture.size == (150, 100)
    assert not plt.get_fignums()  # closed once written
