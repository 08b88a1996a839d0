"""Writes a labelled folder (OUT/<digit>/<n>.png) of handwritten digits that are not MNIST's: the 1,797
digits scikit-learn ships (UCI's optdigits test set, written on forms by 13 people, 8x8 counts of a 32x32
bitmap), as a stand-in for the digits one person collects on the page (`serve --collect`).

    pip install scikit-learn
    python scripts/handwritten_digits_folder.py OUT

Each 8x8 image is scaled back to its 32x32 with bicubic smoothing, light ink on black; `predict`, `test
--data.test_path` and `fit --data.train_folder` then bring it to MNIST's form as they do any image file.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def write_folder(out: Path) -> dict[int, int]:
    """The folder written, as {digit: images}; refuses a folder that already holds files."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("scripts/handwritten_digits_folder.py: needs scikit-learn (pip install scikit-learn)")
    if out.exists() and any(out.iterdir()):
        sys.exit(f"scripts/handwritten_digits_folder.py: {out} is not empty; name a new folder")
    digits = load_digits()
    counts: dict[int, int] = {}
    for image, label in zip(digits.images, digits.target, strict=True):
        label = int(label)
        folder = out / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = Image.fromarray((image * (255.0 / 16.0)).astype(np.uint8)).resize((32, 32), Image.BICUBIC)
        pixels.save(folder / f"{counts.get(label, 0):04d}.png")
        counts[label] = counts.get(label, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python scripts/handwritten_digits_folder.py", description=__doc__)
    parser.add_argument("out", type=Path, help="the folder to write (new or empty)")
    counts = write_folder(parser.parse_args().out)
    print(" ".join(f"{digit}:{count}" for digit, count in sorted(counts.items())))


if __name__ == "__main__":
    main()
