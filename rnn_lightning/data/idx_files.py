"""A header check for IDX files (MNIST's format), so that a truncated or corrupt file is named clearly."""

import math
from pathlib import Path

from rnn_lightning.errors import UserInputError

_ITEM_BYTES = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}


def check_idx_file(path: Path) -> None:
    """Raise `UserInputError` unless the file's size is what its header promises.

    torchvision reads the same header but fails with a bare reshape error on a short file.
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        header = file.read(4)
        if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] not in _ITEM_BYTES:
            raise UserInputError(
                f"{path} is not an IDX file (bad magic number); replace it with the original"
            )
        ndim = header[3]
        dims = file.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise UserInputError(f"{path} is truncated inside its header; replace it with the original")
    shape = [int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim)]
    expected = 4 + 4 * ndim + math.prod(shape) * _ITEM_BYTES[header[2]]
    if size != expected:
        raise UserInputError(
            f"{path} holds {size} bytes but its header (shape {tuple(shape)}) promises {expected}: "
            "the file is truncated or corrupt; replace it with the original"
        )
