"""MNIST (or Fashion-MNIST) served as sequences, split as the tutorial's `read_data_sets` split it."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
from rnn_lightning.data.labelled_folder import LabelledImages, hold_out, mixed_in, read_labelled_folder
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
        val_path, test_path: a labelled folder (`DIR/<class>/*.png`, docs/your_own_digits.md) that
            `validate` and `test` (and fit's validation, for `val_path`) measure instead of MNIST's images.
        train_folder: a labelled folder mixed into fit's training set beside MNIST's images.
        folder_share: the share of the training samples (so of each shuffled batch, about) that are the
            folder's images, repeated as often as it takes; the rest are MNIST's, so it is not forgotten.
        folder_holdout: the share of each class of `train_folder` kept out of training; fit tests on it
            after MNIST's test set.

    MNIST's files are read (or downloaded) only by what uses them: `predict` on files and `test` or
    `validate` on a folder need the checkpoint and the files alone.
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
        val_path: str | None = None,
        test_path: str | None = None,
        train_folder: str | None = None,
        folder_share: float = 0.25,
        folder_holdout: float = 0.2,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise UserInputError(f"data.batch_size must be at least 1, got {batch_size}")
        if eval_batch_size is not None and eval_batch_size < 1:
            raise UserInputError(f"data.eval_batch_size must be at least 1, got {eval_batch_size}")
        if not 0 <= augment_shift <= 8:
            raise UserInputError(f"data.augment_shift must be between 0 and 8 pixels, got {augment_shift}")
        if not 0 <= folder_share < 1 or not 0 <= folder_holdout < 1:
            raise UserInputError(
                f"data.folder_share and data.folder_holdout must be at least 0 and under 1, "
                f"got {folder_share} and {folder_holdout}"
            )
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self.dataset_class = DATASETS[dataset]
        permutation = fixed_permutation(permutation_seed) if sequence == "permuted" else None
        self.to_sequence = ToSequence(sequence, permutation)
        self._splits: dict[str, tuple[Tensor, Tensor]] = {}
        self.predict_names: list[str] = []  # one per predicted image, in input order
        self.unreadable: list[tuple[str, str]] = []  # (path, reason) of files that are not images
        self.folders: dict[str, LabelledImages] = {}  # the labelled folders read: `val`, `test`, `holdout`
        self.testing = "test"  # the split `test` measures: `test`, or fit's held-out `holdout` of the folder
        self.report_folder = ""  # where in the run's folder the test report goes (EvaluationReport)

    @property
    def input_size(self) -> int:
        """Features per time step; the CLI links it to `model.input_size`."""
        return self.to_sequence.input_size

    @property
    def num_classes(self) -> int:
        return len(self.dataset_class.classes)

    def _needs_mnist(self, stage: str | None) -> bool:
        """Whether `stage` (Lightning's `fit`, `validate`, `test`, `predict`) reads MNIST's files."""
        hparams = self.hparams
        if stage == "validate":
            return hparams.val_path is None
        if stage == "test":
            return hparams.test_path is None
        if stage == "predict":
            return hparams.predict_path is None
        return True

    def _stage(self) -> str | None:
        """The running stage, which `prepare_data` is not told: the trainer's function (documented)."""
        function = self.trainer.state.fn if self.trainer is not None else None
        return None if function is None else str(function.value)

    @override
    def prepare_data(self) -> None:
        """Download only when a file is missing and the stage reads MNIST; offline, say which files to put
        where."""
        if not self._needs_mnist(self._stage()):
            return
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
        device = self._device()
        self.to_sequence.to(device)
        if stage in ("fit", "validate") and self.hparams.val_path is not None:
            self._setup_folder("val", self.hparams.val_path, "data.val_path")
        if stage == "test" and self.hparams.test_path is not None:
            self._setup_folder("test", self.hparams.test_path, "data.test_path")
        if self._needs_mnist(stage):
            self._setup_mnist(stage, device)
        if stage == "fit" and self.hparams.train_folder is not None and "holdout" not in self.folders:
            self._mix_in_folder(device)

    def _setup_mnist(self, stage: str, device: torch.device) -> None:
        """MNIST's splits that `stage` uses, read once: training and validation images come from one file,
        the test images from another."""
        if stage in ("fit", "validate") and "train" not in self._splits:
            images, labels = (t.to(device) for t in self._read(train=True))
            self._splits["train"] = (images[VALIDATION_SIZE:], labels[VALIDATION_SIZE:])
            self._splits.setdefault("val", (images[:VALIDATION_SIZE], labels[:VALIDATION_SIZE]))
        if stage in ("fit", "test", "predict") and "test" not in self._splits:
            test_images, test_labels = (t.to(device) for t in self._read(train=False))
            self._splits["test"] = (test_images, test_labels)
            self.predict_names = [f"test/{index}" for index in range(len(test_images))]

    def _setup_folder(self, split: str, folder: str, option: str) -> None:
        """A labelled folder as the split `split` (its files named in `predict_names`'s way, in order)."""
        if split in self.folders:
            return
        data = read_labelled_folder(folder, self.class_names, option, self.hparams.num_workers)
        self.folders[split] = data
        device = self._device()
        self._splits[split] = (data.images.to(device), data.labels.to(device))

    def _mix_in_folder(self, device: torch.device) -> None:
        """`train_folder`'s training part mixed into MNIST's training set; its held-out part kept for the
        test after fit (`testing = "holdout"`)."""
        data = read_labelled_folder(
            self.hparams.train_folder, self.class_names, "data.train_folder", self.hparams.num_workers
        )
        training, held = hold_out(data, self.hparams.folder_holdout)
        self.folders["train"], self.folders["holdout"] = training, held
        images, labels = self._splits["train"]
        self._splits["train"] = mixed_in(images, labels, training, self.hparams.folder_share)
        if len(held):
            self._splits["holdout"] = (held.images.to(device), held.labels.to(device))
        share = 100 * self.hparams.folder_share
        print(
            f"Training on {len(training)} images of {self.hparams.train_folder} ({share:g}% of the samples) "
            f"beside MNIST's; {len(held)} held out to test",
            file=sys.stderr,
            flush=True,
        )

    @contextmanager
    def testing_on(self, split: str) -> Iterator[None]:
        """`test` measures `split` (fit's held-out `holdout`) meanwhile; its report goes to `folder_test/`."""
        self.testing, self.report_folder = split, "folder_test"
        try:
            yield
        finally:
            self.testing, self.report_folder = "test", ""

    @property
    def class_names(self) -> list[str]:
        return class_names(self.dataset_class)

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

    def batch_size_of(self, split: str) -> int:
        """The batch size of `split`'s loader: `eval_batch_size` for every split but `train`, if set."""
        if split != "train" and self.hparams.eval_batch_size is not None:
            return self.hparams.eval_batch_size
        return self.hparams.batch_size

    def _loader(self, name: str, shuffle: bool) -> InMemoryBatches:
        images, labels = self._splits[name]
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        order = BatchOrder(
            len(images),
            self.batch_size_of(name),
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
        return self._loader(self.testing, shuffle=False)

    @override
    def predict_dataloader(self) -> InMemoryBatches:
        return self._loader("predict" if "predict" in self._splits else "test", shuffle=False)
