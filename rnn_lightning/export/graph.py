"""The graph that `export` writes: images in MNIST's form in, what `serve` answers out, with the checkpoint's
sequence kind (its permutation included) inside, so that the file alone reads digits."""

import torch
from torch import Tensor, nn

from rnn_lightning.model.reading import DigitReader, read

INPUT_DTYPES = {"uint8": torch.uint8, "float32": torch.float32}
"""What the graph may take: MNIST's own uint8 pixels, or float32 ones on the same 0-255 scale."""


class ExportedReader(nn.Module):
    """A checkpoint's `DigitReader` as one module: (batch, 28, 28) images, 0-255, light ink on black, to
    the ten probabilities and, for a network that reads in order, those after each row (batch, 28, 10),
    from the one `read` that `serve` answers with."""

    def __init__(self, reader: DigitReader) -> None:
        super().__init__()
        self.network, self.to_sequence = reader.network, reader.to_sequence

    @property
    def output_names(self) -> list[str]:
        return ["probabilities", "steps"] if self.network.reads_in_order else ["probabilities"]

    def forward(self, images: Tensor) -> tuple[Tensor, ...]:
        reading = read(self.network, self.to_sequence(images))
        steps = reading.probabilities_by_row
        return (reading.probabilities,) if steps is None else (reading.probabilities, steps)

    def example(self, dtype: str) -> Tensor:
        """An input to trace with: two blank images (a batch of one would be taken for a fixed size)."""
        return torch.zeros(2, 28, 28, dtype=INPUT_DTYPES[dtype])
