"""The tutorial's kind of result line, which `fit` (its test after training), `test` and `validate` print on
stdout: `Testing Accuracy: 0.8814 (10000 test images)`, and the tutorial's own first-128 figure."""

from contextlib import nullcontext
from typing import Any

import lightning as L
import torch
from torchmetrics.functional.classification import multiclass_accuracy
from typing_extensions import override

TUTORIAL_TEST_IMAGES = 128  # the tutorial measured its "Testing Accuracy" on the first 128 test images
STAGES = {"test": ("Testing", "test"), "validate": ("Validation", "validation")}
"""The subcommand -> its words: "Testing Accuracy ... test images", "Validation Accuracy ... validation
images"."""
METRICS = {"test": "test/acc", "validate": "val/acc"}


class ImagesMeasured(L.Callback):
    """Counts the images the last test or validation measured, so that the line says how many it saw
    (fewer than the split under `--trainer.limit_test_batches`)."""

    def __init__(self) -> None:
        self.images = 0

    def _start(self, *_: Any) -> None:
        self.images = 0

    def _count(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, *_: Any
    ) -> None:
        self.images += len(batch[1])

    on_test_epoch_start = on_validation_epoch_start = override(_start)
    on_test_batch_end = on_validation_batch_end = override(_count)

    def total(self, trainer: L.Trainer) -> int:
        """The images measured by every process together (every rank must ask)."""
        return int(trainer.strategy.reduce(torch.tensor(self.images), reduce_op="sum"))


def accuracy_lines(stage: str, accuracy: float, images: int, first_images: float | None = None) -> list[str]:
    """The lines of a `stage` (`test` or `validate`) measured at `accuracy` on `images` images, with the
    accuracy on the first 128 test images if it is given."""
    heading, noun = STAGES[stage]
    lines = [f"{heading} Accuracy: {accuracy:.4f} ({images} {noun} images)"]
    if first_images is not None:
        first = f"first {TUTORIAL_TEST_IMAGES} test images, as the tutorial"
        lines.append(f"Testing Accuracy: {first_images:.4f} ({first})")
    return lines


def folder_line(folder: str, accuracy: float, images: int) -> str:
    """The line of a test on the held-out part of fit's `data.train_folder`."""
    return f"Testing Accuracy: {accuracy:.4f} (folder {folder}, {images} images)"


def reads_the_dataset_test_set(datamodule) -> bool:
    """Whether the test split is the dataset's own test set, where the tutorial's first-128 figure means
    what it meant there (not a labelled folder of one's own, where the data module has one)."""
    return datamodule.hparams.get("test_path") is None


@torch.no_grad()
def split_accuracy(
    model, datamodule, split: str, count: int | None = None, trainer=None
) -> tuple[float, int]:
    """The accuracy of `model` on the first `count` images of the data module's `split` (all of them:
    None), in `trainer`'s precision where one is given, and the number of images measured."""
    images, labels = datamodule.split(split)
    images, labels = images[:count], labels[:count]
    batch = datamodule.batch_size_of(split)
    context = trainer.precision_plugin.forward_context() if trainer is not None else nullcontext()
    was_training = model.training
    model.eval()
    with context:
        predicted = torch.cat(
            [
                model(datamodule.to_sequence(images[start : start + batch].to(model.device))).argmax(-1)
                for start in range(0, len(images), batch)
            ]
        )
    model.train(was_training)
    classes = int(model.hparams.num_classes)
    accuracy = multiclass_accuracy(predicted, labels.to(predicted.device), classes, average="micro")
    return accuracy.item(), len(images)


def tutorial_test_accuracy(model, datamodule) -> float:
    """Accuracy on the first 128 test images, the tutorial's own test figure."""
    return split_accuracy(model, datamodule, "test", TUTORIAL_TEST_IMAGES)[0]


def stage_report(stage: str, trainer: L.Trainer, model, datamodule, measured: ImagesMeasured) -> list[str]:
    """The lines of the test or validation that `trainer` has just run (its `test/acc` or `val/acc`), on
    every rank (the count is summed over them)."""
    accuracy = float(trainer.callback_metrics[METRICS[stage]])
    images = measured.total(trainer)
    first = None
    if stage == "test" and reads_the_dataset_test_set(datamodule):
        first = tutorial_test_accuracy(model, datamodule)
    return accuracy_lines(stage, accuracy, images, first)
