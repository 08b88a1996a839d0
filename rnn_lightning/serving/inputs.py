"""A request's body, whatever form it came in, brought to MNIST's form: uint8 (28, 28), light on black.

The HTTP layer (`uploads.py`) hands every request to the model's worker as JSON: `{"pixels": 28 x 28
numbers}` as the page sends it, or `{"image": base64 of an image file}` for uploads and raw bytes.
"""

import base64
import binascii

import numpy as np
import torch
from torch import Tensor

from rnn_lightning.errors import UserInputError
from rnn_lightning.images import image_from_bytes

SIDE = 28


def request_to_image(request: object) -> Tensor:
    """The 28x28 uint8 image a request asks about; `UserInputError` (one line) for anything else."""
    if not isinstance(request, dict):
        raise UserInputError('send an image file, or JSON {"pixels": [[28 numbers 0-255] x 28]}')
    if "pixels" in request:
        return pixels_to_image(request["pixels"])
    if "image" in request:
        try:
            data = base64.b64decode(request["image"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise UserInputError('"image" must be an image file in base64') from None
        return image_from_bytes(data)
    raise UserInputError('JSON must hold "pixels": [[28 numbers 0-255] x 28] (or upload an image file)')


def pixels_to_image(pixels: object) -> Tensor:
    """28 rows of 28 numbers from 0 to 255 (light ink on black, as MNIST) to a uint8 tensor."""
    shape_error = UserInputError(f'"pixels" must be {SIDE} rows of {SIDE} numbers from 0 to 255')
    if not isinstance(pixels, list):
        raise shape_error
    try:  # numpy parses the nested lists in C (15 µs against torch.tensor's 41); ragged rows, strings fail
        values = np.array(pixels, dtype=np.float32)
    except (TypeError, ValueError):
        raise shape_error from None
    if values.shape != (SIDE, SIDE):
        raise shape_error
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 255:
        raise UserInputError('"pixels" values must be numbers from 0 to 255')
    return torch.from_numpy(values.round().astype(np.uint8))
