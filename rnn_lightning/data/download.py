"""Getting the four raw IDX files: torchvision downloads them, a failed download leaves nothing behind,
and every way of missing them gives the same advice as the README's "MNIST offline"."""

import os
import shutil
from pathlib import Path

from torchvision import datasets

from rnn_lightning.errors import UserInputError


def raw_files(dataset_class: type[datasets.MNIST], data_dir: Path) -> list[Path]:
    """The four uncompressed IDX files torchvision reads, in its `<root>/<Name>/raw/` layout."""
    raw = data_dir / dataset_class.__name__ / "raw"
    return [raw / os.path.basename(url).removesuffix(".gz") for url, _ in dataset_class.resources]


def offline_advice(dataset_class: type[datasets.MNIST], data_dir: Path) -> str:
    """What to do without a download, in the README's words (its section "MNIST offline")."""
    files = raw_files(dataset_class, data_dir)
    names = ", ".join(path.name for path in files)
    where = f"{files[0].parent}/, or name a folder holding {dataset_class.__name__}/raw/ with them"
    return f"put the four uncompressed files {names} into {where} in --data.data_dir (README: MNIST offline)"


def download(dataset_class: type[datasets.MNIST], data_dir: Path) -> None:
    """Downloads the missing files. On failure, every file and folder the attempt made is removed (an
    empty `MNIST/raw/` left behind would look like data), and the error says where to put the files."""
    raw = raw_files(dataset_class, data_dir)[0].parent
    new_folders = [folder for folder in (raw, *raw.absolute().parents) if not folder.exists()]
    before = set(raw.iterdir()) if raw.is_dir() else set()
    try:
        for train in (True, False):
            dataset_class(str(data_dir), train=train, download=True)
    except Exception as error:
        if raw.is_dir():
            for path in set(raw.iterdir()) - before:  # what this attempt wrote, complete or not
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        for folder in new_folders:  # deepest first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise UserInputError(
            f"{dataset_class.__name__} is not in {raw} and could not be downloaded ({type(error).__name__}); "
            f"{offline_advice(dataset_class, data_dir)}"
        ) from None
