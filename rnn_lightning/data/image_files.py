"""Turns a photo or scan of a digit into MNIST's form, the way MNIST itself was made.

MNIST digits are light on black, scaled to fit a 20x20 box with their aspect ratio kept (anti-aliased),
and placed in a 28x28 field so that their centre of mass sits at the centre.
"""

import glob
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from rnn_lightning.errors import UserInputError, first_line

MAX_IMAGE_PIXELS = 64_000_000  # a 64-megapixel photo; a bigger header is refused before decoding
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def find_images(pattern: str) -> list[Path]:
    """The files named by `pattern`: an image file (of any suffix), a folder (its image files, sorted)
    or a glob (its matches, sorted)."""
    path = Path(pattern)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if path.is_file():
        return [path]
    matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not matches:
        raise UserInputError(f"data.predict_path {pattern!r} names no file, folder or glob match")
    return matches


def grayscale(image: Image.Image) -> np.ndarray:
    """The image as float32 grayscale, with its transparency resolved as a person sees it.

    A drawing app or a web canvas exports strokes of one colour on a transparent background: the colour
    channels then carry no ink (often all black, background included) and the alpha channel is the
    digit, read as light ink on black. Otherwise the image is shown on white, as a browser shows it.
    """
    if not image.has_transparency_data:
        return np.asarray(image.convert("L"), dtype=np.float32)
    shade, alpha = np.moveaxis(np.asarray(image.convert("RGBA").convert("LA"), dtype=np.float32), -1, 0)
    seen = shade[alpha > 25]
    if seen.size == 0 or np.ptp(np.percentile(seen, [2, 98])) < 16:  # one flat colour: the alpha is the ink
        return alpha
    opacity = alpha / 255.0
    return shade * opacity + 255.0 * (1.0 - opacity)


# MNIST's digits have their centre of mass at pixel (14, 14), counting from 0: its 10,000 test images
# average 13.99 and 14.01 (a centre of 13.5, the field's middle, would move most of them by a pixel).
MNIST_CENTRE = 14.0


def to_mnist_form(image: Image.Image) -> Tensor:
    """A uint8 tensor (28, 28): grayscale, light digit on black, fitted into 20x20, centred by mass."""
    pixels = grayscale(image)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = float(np.median(border))
    if background > 127:  # dark ink on light paper: turn it into MNIST's light ink on black
        pixels, background = 255.0 - pixels, 255.0 - background
    ink = np.clip(pixels - background, 0, None)
    if ink.max() <= 0:
        return torch.zeros(28, 28, dtype=torch.uint8)  # a blank image stays blank
    rows, cols = np.nonzero(ink > 0.2 * ink.max())  # paper grain and JPEG noise stay outside the box
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = ink.shape
    scale = 20.0 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    glyph = Image.fromarray((ink * (255.0 / ink.max())).astype(np.uint8)).resize(size, Image.LANCZOS)
    glyph = np.asarray(glyph, dtype=np.float32)
    field = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    field[top : top + size[1], left : left + size[0]] = glyph
    total = field.sum()
    if total > 0:  # shift the centre of mass to where MNIST has it
        grid_rows, grid_cols = np.indices(field.shape)
        shift_rows = round(MNIST_CENTRE - (grid_rows * field).sum() / total)
        shift_cols = round(MNIST_CENTRE - (grid_cols * field).sum() / total)
        field = _shift(field, shift_rows, shift_cols)
    return torch.from_numpy(np.clip(field, 0, 255).round().astype(np.uint8))


def _shift(field: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Moves the content by (rows, cols), filling with black (no wrap-around)."""
    shifted = np.zeros_like(field)
    height, width = field.shape
    source = field[max(0, -rows) : height - max(0, rows), max(0, -cols) : width - max(0, cols)]
    shifted[max(0, rows) : max(0, rows) + source.shape[0], max(0, cols) : max(0, cols) + source.shape[1]] = (
        source
    )
    return shifted


def open_checked(source) -> Image.Image:
    """Opens an image (a path or a binary file), refusing one whose header claims more than
    `MAX_IMAGE_PIXELS`: a decompression bomb is stopped before it is decoded. PIL's own guard only
    warns up to twice its limit (which let a 100-megapixel header through) and raises beyond it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the check below is stricter
        try:
            image = Image.open(source)
        except Image.DecompressionBombError as error:
            raise ValueError(
                f"the image is larger than the {MAX_IMAGE_PIXELS:,} pixels allowed ({error})"
            ) from None
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise ValueError(
            f"the image is {width} x {height} pixels, more than the {MAX_IMAGE_PIXELS:,} pixels allowed"
        )
    return image


def _decode(source) -> Tensor:
    with open_checked(source) as image:
        return to_mnist_form(image)


def load_image(path: Path) -> tuple[Tensor | None, str | None]:
    """(image in MNIST form, None), or (None, the reason) when the file cannot be read as an image."""
    try:
        return _decode(path), None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        return None, first_line(error)


def image_from_bytes(data: bytes) -> Tensor:
    """An image file's bytes in MNIST's form, as `predict` reads files; `UserInputError` otherwise."""
    if not data:
        raise UserInputError("the image is empty (0 bytes)")
    try:
        return _decode(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UserInputError(
            "the data is not an image PIL can read (PNG, JPEG, GIF, BMP, TIFF, WebP...)"
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise UserInputError(f"the image cannot be decoded: {first_line(error)}") from None
