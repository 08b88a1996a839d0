"""What a fine-tuning run starts from: the accuracies of `--model.init_from`'s weights on MNIST's test set
and on the held-out part of `data.train_folder`, printed before the first step, so that the lines after
fit (the same sets, the same images) show what fine-tuning changed."""

import lightning as L
import torch
from torchmetrics.functional.classification import multiclass_accuracy
from typing_extensions import override

from rnn_lightning.report.accuracy_lines import accuracy_lines, folder_line


class FineTuningStart(L.Callback):
    """At the start of a fit from `init_from` (after its weights are loaded), on rank zero: `Testing
    Accuracy before fine-tuning: ...` for MNIST's test images and the folder's held-out images."""

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = trainer.datamodule
        if getattr(pl_module, "init_from", None) is None or datamodule is None or not trainer.is_global_zero:
            return
        accuracy, images = measure(trainer, pl_module, datamodule, "test")  # a fit always reads the test set
        lines = accuracy_lines("test", accuracy, images)
        holdout = datamodule.folders.get("holdout")
        if holdout is not None and len(holdout):
            accuracy, images = measure(trainer, pl_module, datamodule, "holdout")
            lines.append(folder_line(datamodule.hparams.train_folder, accuracy, images))
        for line in lines:
            print(line.replace("Testing Accuracy:", "Testing Accuracy before fine-tuning:"), flush=True)


@torch.no_grad()
def measure(trainer: L.Trainer, model: L.LightningModule, datamodule, split: str) -> tuple[float, int]:
    """The accuracy of `model` on the data module's `split`, in the run's precision, and its image count."""
    images, labels = datamodule.split(split)
    batch = datamodule.hparams.eval_batch_size
    was_training = model.training
    model.eval()
    predictions = []
    with trainer.precision_plugin.forward_context():
        for start in range(0, len(images), batch):
            sequences = datamodule.to_sequence(images[start : start + batch].to(model.device))
            predictions.append(model(sequences).argmax(-1))
    model.train(was_training)
    predicted = torch.cat(predictions)
    classes = int(model.hparams.num_classes)
    accuracy = multiclass_accuracy(predicted, labels.to(predicted.device), classes, average="micro")
    return accuracy.item(), len(images)
