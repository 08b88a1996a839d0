"""Workaround: a PNG file's bytes into TensorBoard as an image summary, as written.

`SummaryWriter.add_image` takes pixels and encodes them to PNG again (`benchmarks/evaluation_report.py`
times both ways), and `add_figure` draws the figure a second time.
The summary is built here from the PNG's own bytes and handed to the writer's private
`_get_file_writer()`, as `add_image` itself does: it reopens the event file when Lightning has closed
the writer at the end of a run (a report drawn after `trainer.test` returned).

Upstream: no issue found for adding encoded images (searched PyTorch's tracker for `add_image` with
encoded PNG bytes); checked on PyTorch 2.14.1 and TensorBoard 2.21. Test: tests/report/test_figure_output.py
(TensorBoard holds the very file, with an open and a closed writer) fails if the private method goes.
"""

import struct

_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # a PNG's colour type (byte 25) -> TensorBoard's colorspace


def add_png(writer, tag: str, png: bytes, step: int) -> None:
    """Adds `png` to `writer` (a `torch.utils.tensorboard.SummaryWriter`) under `tag` at `step`."""
    from tensorboard.compat.proto.summary_pb2 import Summary  # the writer loads it anyway

    width, height = struct.unpack(">II", png[16:24])
    image = Summary.Image(
        height=height, width=width, colorspace=_PNG_CHANNELS[png[25]], encoded_image_string=png
    )
    writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)
    writer.flush()
