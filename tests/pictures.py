"""Image files the tests send to `predict` and `serve`: PNGs of digits, transparent ones, and bombs."""

import io
import struct
import zlib

import numpy as np
from PIL import Image

TRANSPARENT_KINDS = ("rgba", "la", "palette")


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    buffer = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def transparent(digit: np.ndarray, kind: str) -> Image.Image:
    """An MNIST digit (light on black) as a drawing app exports it: black ink on a transparent background,
    the stroke's shape in the alpha channel (`palette`: one transparent and one black colour, no shades)."""
    if kind == "rgba":
        return Image.merge("RGBA", [Image.new("L", digit.shape[::-1], 0)] * 3 + [Image.fromarray(digit)])
    if kind == "la":
        return Image.merge("LA", [Image.new("L", digit.shape[::-1], 0), Image.fromarray(digit)])
    image = Image.fromarray((digit > 127).astype(np.uint8)).convert("P")
    image.putpalette([255, 255, 255, 0, 0, 0])  # 0: the background, transparent; 1: black ink
    image.info["transparency"] = 0
    return image


def opaque_twin(digit: np.ndarray, kind: str) -> np.ndarray:
    """What a person sees in `transparent(digit, kind)`: the same digit, light on black."""
    return ((digit > 127) * 255).astype(np.uint8) if kind == "palette" else digit


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small PNG whose header claims a huge image: decoding it would take gigabytes."""
    data = bytearray(png_bytes(np.zeros((8, 8), dtype=np.uint8)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)
