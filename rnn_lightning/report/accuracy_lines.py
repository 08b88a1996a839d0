"""The tutorial's kind of result line, which `fit` (its test after training), `test` and `validate` print on
stdout: `Testing Accuracy: 0.8814 (10000 test images)`, and the tutorial's own first-128 figure."""

import torch
from torchmetrics.functional.classification import multiclass_accuracy

TUTORIAL_TEST_IMAGES = 128  # the tutorial measured its "Testing Accuracy" on the first 128 test images
STAGES = {"test": ("Testing", "test"), "validate": ("Validation", "validation")}
"""The subcommand -> its words: "Testing Accuracy ... test images", "Validation Accuracy ... validation
images"."""
SPLITS = {"test": "test", "validate": "val"}


def accuracy_lines(stage: str, accuracy: float, images: int, first_images: float | None = None) -> list[str]:
    """The lines of a `stage` (`test` or `validate`) measured at `accuracy` on `images` images, with the
    accuracy on the first 128 test images if it is given."""
    heading, noun = STAGES[stage]
    lines = [f"{heading} Accuracy: {accuracy:.4f} ({images} {noun} images)"]
    if first_images is not None:
        first = f"first {TUTORIAL_TEST_IMAGES} test images, as the tutorial"
        lines.append(f"Testing Accuracy: {first_images:.4f} ({first})")
    return lines


def reads_the_dataset_test_set(datamodule) -> bool:
    """Whether the test split is the dataset's own test set, where the tutorial's first-128 figure means
    what it meant there (not a labelled folder of one's own, where the data module has one)."""
    return datamodule.hparams.get("test_path") is None


@torch.no_grad()
def tutorial_test_accuracy(model, datamodule) -> float:
    """Accuracy on the first 128 test images, the tutorial's own test figure."""
    images, labels = datamodule.split("test")
    images, labels = images[:TUTORIAL_TEST_IMAGES], labels[:TUTORIAL_TEST_IMAGES]
    was_training = model.training
    model.eval()
    logits = model(datamodule.to_sequence(images).to(model.device))
    model.train(was_training)
    accuracy = multiclass_accuracy(logits, labels.to(model.device), logits.shape[-1], average="micro")
    return accuracy.item()


def stage_report(stage: str, trainer, model, datamodule) -> list[str]:
    """The lines of the test or validation that `trainer` has just run (its `test/acc` or `val/acc`)."""
    split = SPLITS[stage]
    accuracy = float(trainer.callback_metrics[f"{'test' if stage == 'test' else 'val'}/acc"])
    images = len(datamodule.split(split)[0])
    first = None
    if stage == "test" and reads_the_dataset_test_set(datamodule):
        first = tutorial_test_accuracy(model, datamodule)
    return accuracy_lines(stage, accuracy, images, first)
