"""A labelled folder as a data set: `DIR/<class>/*.png|jpg...`, each image read as `predict` and `serve`
read theirs (`to_mnist_form`), its class the name of its folder (a digit for MNIST: `DIR/7/x.png`)."""

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from rnn_lightning.data.image_files import IMAGE_SUFFIXES, load_image
from rnn_lightning.errors import UserInputError


@dataclass
class LabelledImages:
    """uint8 images (n, 28, 28) in MNIST's form, their int64 labels (n,) and the files they came from."""

    images: Tensor
    labels: Tensor
    paths: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: Tensor) -> "LabelledImages":
        return LabelledImages(self.images[index], self.labels[index], [self.paths[i] for i in index.tolist()])


def class_of_folder(name: str, classes: list[str]) -> int | None:
    """The class index a folder's name stands for: its number (`7`) or the class's own name."""
    if name.isdigit() and int(name) < len(classes):
        return int(name)
    return classes.index(name) if name in classes else None


def _decode(paths: list[Path]) -> list[tuple[Tensor | None, str | None]]:
    return [load_image(path) for path in paths]


def check_folder_exists(folder: str | Path, option: str) -> Path:
    """`folder` as a Path; a `UserInputError` in one line if it is no folder (checked when the data module
    is built, so that a `fit` does not train first and then fail at its test)."""
    root = Path(folder)
    if not root.is_dir():
        raise UserInputError(f"{option} {folder}: no such folder (expected class folders: DIR/<class>/*.png)")
    return root


def read_labelled_folder(
    folder: str | Path, classes: list[str], option: str, workers: int = 0
) -> LabelledImages:
    """Every image under `folder/<class>/`, sorted by path; `UserInputError` in one line for a folder that
    is missing or holds no images, a folder that is not a class of the model, a file at the top level, or a
    file that cannot be read as an image. Files without an image suffix (a README, `.DS_Store`) are
    skipped."""
    root = check_folder_exists(folder, option)
    named = "classes " + (
        ", ".join(classes) if all(len(c) < 3 for c in classes) else f"0 to {len(classes) - 1}"
    )
    paths, labels = [], []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            if entry.suffix.lower() in IMAGE_SUFFIXES:
                raise UserInputError(
                    f"{option}: {entry} is not in a class folder; move it to {root}/<class>/ ({named})"
                )
            continue
        label = class_of_folder(entry.name, classes)
        if label is None:
            raise UserInputError(f"{option}: {entry} is not a class of the model ({named})")
        for path in sorted(entry.iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(path)
                labels.append(label)
    if not paths:
        raise UserInputError(f"{option} {folder} holds no images (expected {root}/<class>/*.png; {named})")
    decoded = DataLoader(paths, batch_size=64, num_workers=workers, collate_fn=_decode)
    images = []
    for path, (image, reason) in zip(paths, (item for batch in decoded for item in batch), strict=True):
        if image is None:
            raise UserInputError(f"{option}: cannot read {path} as an image: {reason}")
        images.append(image)
    return LabelledImages(
        torch.stack(images), torch.tensor(labels, dtype=torch.int64), [str(p) for p in paths]
    )


def hold_out(data: LabelledImages, share: float, seed: int = 0) -> tuple[LabelledImages, LabelledImages]:
    """(training part, held-out part): `share` of each class held out (at least one image of a class with
    two or more), drawn with its own seed so that the same folder always splits the same way."""
    generator = torch.Generator().manual_seed(seed)
    kept, held = [], []
    for label in data.labels.unique().tolist():
        members = torch.nonzero(data.labels == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        count = round(share * len(members))
        if share > 0 and count == 0 and len(members) > 1:
            count = 1
        held.append(members[:count])
        kept.append(members[count:])
    kept_index, held_index = torch.cat(kept).sort().values, torch.cat(held).sort().values
    return data.subset(kept_index), data.subset(held_index)


def mixed_in(images: Tensor, labels: Tensor, folder: LabelledImages, share: float, seed: int = 0):
    """MNIST's training images with the folder's appended, repeated (whole copies, then a random part of
    one more) until they are `share` of the training set: so each shuffled batch holds about that share
    of the folder's images, and the rest, MNIST's, keep the model from forgetting it."""
    if share <= 0 or len(folder) == 0:
        return images, labels
    wanted = round(share * len(images) / (1 - share))
    copies, rest = divmod(max(wanted, len(folder)), len(folder))
    generator = torch.Generator().manual_seed(seed)
    index = torch.cat(
        [torch.arange(len(folder)).repeat(copies), torch.randperm(len(folder), generator=generator)[:rest]]
    )
    extra_images, extra_labels = (
        folder.images[index].to(images.device),
        folder.labels[index].to(labels.device),
    )
    return torch.cat([images, extra_images]), torch.cat([labels, extra_labels])
