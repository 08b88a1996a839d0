"""MNIST (or Fashion-MNIST) served as sequences, split as the tutorial's `read_data_sets` split it."""

import sys
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader
from torchvision import datasets
from typing_extensions import override

from rnn_lightning.data.batches import BatchOrder, InMemoryBatches, RandomShift
from rnn_lightning.data.download import download, offline_advice, raw_files
from rnn_lightning.data.idx_files import check_idx_file
from rnn_lightning.data.image_files import find_images, load_image
from rnn_lightning.data.sequences import SequenceKind, ToSequence, fixed_permutation
from rnn_lightning.errors import UserInputError

VALIDATION_SIZE = 5000  # the tutorial's read_data_sets keeps the first 5,000 training images apart
DATASETS = {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST}


def class_names(dataset_class: type[datasets.MNIST] | None, num_classes: int = 10) -> list[str]:
    """Digits for MNIST (or no dataset named), torchvision's class names for Fashion-MNIST: what the
    report's pictures and an exported model's metadata name the classes."""
    if dataset_class is None or dataset_class is datasets.MNIST:
        return [str(index) for index in range(num_classes)]
    return list(dataset_class.classes)


def _load_images(paths: list[Path]) -> list[tuple[Tensor | None, str | None]]:
    """Decodes a batch of image files (a `collate_fn`, so DataLoader workers do it in parallel)."""
    return [load_image(path) for path in paths]


class MNISTDataModule(L.LightningDataModule):
    """MNIST as sequences: 55,000 images train, the first 5,000 training images validate, 10,000 test.

    Each split stays in memory as one uint8 tensor on the training device; batches are gathered whole.

    Args:
        data_dir: root folder in torchvision's layout (`<data_dir>/MNIST/raw/`); downloaded into if missing.
        batch_size: samples per step on each process (under DDP the global batch is this times world size).
        eval_batch_size: samples per validation, test and predict batch (None: `batch_size`). With no
            gradients to keep, larger batches cost less per image (docs/time_to_accuracy.md).
        num_workers: processes decoding image files in `predict`; the in-memory splits need none.
        dataset: `mnist` or `fashion_mnist` (same format, ten clothing classes).
        sequence: `rows` (28 steps of 28 pixels, the tutorial), `pixels` (784 steps of 1) or `permuted`.
        permutation_seed: seed of the fixed pixel order for `permuted`.
        augment_shift: move training images by up to this many pixels each way (0: off, the tutorial).
        predict_path: image file, folder or glob to classify in `predict`; the test set when not given.
        download: fetch missing files in `prepare_data`; off, a missing file is an error at once.
    """

    def __init__(
        self,
        data_dir: str = "data/",
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        dataset: Literal["mnist", "fashion_mnist"] = "mnist",
        sequence: SequenceKind = "rows",
        permutation_seed: int = 0,
        augment_shift: int = 0,
        predict_path: str | None = None,
        download: bool = True,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise UserInputError(f"data.batch_size must be at least 1, got {batch_size}")
        if eval_batch_size is not None and eval_batch_size < 1:
            raise UserInputError(f"data.eval_batch_size must be at least 1, got {eval_batch_size}")
        if not 0 <= augment_shift <= 8:
            raise UserInputError(f"data.augment_shift must be between 0 and 8 pixels, got {augment_shift}")
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self.dataset_class = DATASETS[dataset]
        permutation = fixed_permutation(permutation_seed) if sequence == "permuted" else None
        self.to_sequence = ToSequence(sequence, permutation)
        self._splits: dict[str, tuple[Tensor, Tensor]] = {}
        self.predict_names: list[str] = []  # one per predicted image, in input order
        self.unreadable: list[tuple[str, str]] = []  # (path, reason) of files that are not images

    @property
    def input_size(self) -> int:
        """Features per time step; the CLI links it to `model.input_size`."""
        return self.to_sequence.input_size

    @property
    def num_classes(self) -> int:
        return len(self.dataset_class.classes)

    @override
    def prepare_data(self) -> None:
        """Download only when a file is missing; offline, say which files to put where."""
        missing = [path for path in raw_files(self.dataset_class, self.data_dir) if not path.is_file()]
        if not missing:
            return
        if not self.hparams.download:
            raise UserInputError(
                f"{self.dataset_class.__name__} is not in {missing[0].parent} and data.download is off; "
                f"{offline_advice(self.dataset_class, self.data_dir)}"
            )
        download(self.dataset_class, self.data_dir)

    def _read(self, train: bool) -> tuple[Tensor, Tensor]:
        for path in raw_files(self.dataset_class, self.data_dir):
            if not path.is_file():
                raise UserInputError(
                    f"{path} is missing; {offline_advice(self.dataset_class, self.data_dir)}"
                )
            check_idx_file(path)
        dataset = self.dataset_class(str(self.data_dir), train=train, download=False)
        return dataset.data, dataset.targets

    @override
    def setup(self, stage: str) -> None:
        if stage == "predict" and self.hparams.predict_path is not None:
            self._setup_images(self.hparams.predict_path)
            return
        if "train" in self._splits:
            return
        device = self._device()
        images, labels = self._read(train=True)
        test_images, test_labels = self._read(train=False)
        on_device = [t.to(device) for t in (images, labels, test_images, test_labels)]
        images, labels, test_images, test_labels = on_device
        self._splits = {
            "train": (images[VALIDATION_SIZE:], labels[VALIDATION_SIZE:]),
            "val": (images[:VALIDATION_SIZE], labels[:VALIDATION_SIZE]),
            "test": (test_images, test_labels),
        }
        self.to_sequence.to(device)
        self.predict_names = [f"test/{index}" for index in range(len(test_images))]

    def _setup_images(self, pattern: str) -> None:
        """Decodes the user's images (in `num_workers` processes) into one uint8 tensor in MNIST's form."""
        paths = find_images(pattern)
        decoded = DataLoader(
            paths, batch_size=64, num_workers=self.hparams.num_workers, collate_fn=_load_images
        )
        images, self.predict_names, self.unreadable = [], [], []
        for path, (image, reason) in zip(paths, (item for batch in decoded for item in batch), strict=True):
            if image is None:
                self.unreadable.append((str(path), reason))
            else:
                images.append(image)
                self.predict_names.append(str(path))
        if not images:
            first, reason = self.unreadable[0]
            raise UserInputError(
                f"none of the {len(paths)} files could be read as an image ({first}: {reason})"
            )
        device = self._device()
        stacked = torch.stack(images).to(device)
        self._splits["predict"] = (stacked, torch.full((len(stacked),), -1, device=device))
        self.to_sequence.to(device)

    @override
    def state_dict(self) -> dict[str, Any]:
        """Saved in checkpoints: how images became sequences, the permutation itself included."""
        permutation = self.to_sequence.permutation
        return {
            "sequence": self.to_sequence.kind,
            "permutation": None if permutation is None else permutation.tolist(),
        }

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Reads images as the checkpoint's model was trained to: `pixels` and `permuted` (with its own
        permutation) share an input size, so a config naming the other one would go unnoticed."""
        kind, permutation = state_dict["sequence"], state_dict["permutation"]
        if kind == "rows" or ToSequence(kind).input_size != self.input_size:
            return  # a different input size fails the shape check before this; rows have no variants
        current = self.to_sequence.permutation
        if kind == self.to_sequence.kind and (
            permutation is None or torch.equal(current.cpu(), torch.tensor(permutation))
        ):
            return
        device = current.device if current is not None else self._device()
        self.to_sequence = ToSequence(kind, None if permutation is None else torch.tensor(permutation)).to(
            device
        )
        print(
            f"Reading images as the checkpoint was trained: sequence {kind!r}, its own pixel order",
            file=sys.stderr,
            flush=True,
        )

    def _device(self) -> torch.device:
        return self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")

    def split(self, name: str) -> tuple[Tensor, Tensor]:
        """The uint8 images (n, 28, 28) and labels (n,) of `train`, `val` or `test`."""
        return self._splits[name]

    def _shuffle_seed(self) -> int:
        # The seed that `seed_everything` set, taken from rank zero so that every rank shards one order.
        seed = torch.initial_seed() % 2**31
        return self.trainer.strategy.broadcast(seed) if self.trainer is not None else seed

    def _loader(self, name: str, shuffle: bool) -> InMemoryBatches:
        images, labels = self._splits[name]
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        batch_size = self.hparams.batch_size
        if name != "train" and self.hparams.eval_batch_size is not None:
            batch_size = self.hparams.eval_batch_size
        order = BatchOrder(
            len(images),
            batch_size,
            shuffle=shuffle,
            seed=self._shuffle_seed() if shuffle else 0,
            rank=rank,
            world_size=world,
            even_shards=shuffle,
        )
        shift = self.hparams.augment_shift if name == "train" else 0
        return InMemoryBatches(images, labels, order, self.to_sequence, RandomShift(shift) if shift else None)

    @override
    def train_dataloader(self) -> InMemoryBatches:
        return self._loader("train", shuffle=True)

    @override
    def val_dataloader(self) -> InMemoryBatches:
        return self._loader("val", shuffle=False)

    @override
    def test_dataloader(self) -> InMemoryBatches:
        return self._loader("test", shuffle=False)

    @override
    def predict_dataloader(self) -> InMemoryBatches:
        return self._loader("predict" if "predict" in self._splits else "test", shuffle=False)
