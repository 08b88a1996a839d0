"""What a fine-tuning run starts from: the accuracies of `--model.init_from`'s weights on MNIST's test set
and on the held-out part of `data.train_folder`, printed before the first step, so that the lines after
fit (the same sets, the same images) show what fine-tuning changed."""

import lightning as L
from typing_extensions import override

from rnn_lightning.report.accuracy_lines import accuracy_lines, folder_line, split_accuracy


class FineTuningStart(L.Callback):
    """At the start of a fit from `init_from` (after its weights are loaded), on rank zero: `Testing
    Accuracy before fine-tuning: ...` for MNIST's test images and the folder's held-out images."""

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = trainer.datamodule
        if getattr(pl_module, "init_from", None) is None or datamodule is None or not trainer.is_global_zero:
            return
        # a fit always reads MNIST's test set
        accuracy, images = split_accuracy(pl_module, datamodule, "test", trainer=trainer)
        lines = accuracy_lines("test", accuracy, images)
        holdout = datamodule.folders.get("holdout")
        if holdout is not None and len(holdout):
            accuracy, images = split_accuracy(pl_module, datamodule, "holdout", trainer=trainer)
            lines.append(folder_line(datamodule.hparams.train_folder, accuracy, images))
        for line in lines:
            print(line.replace("Testing Accuracy:", "Testing Accuracy before fine-tuning:"), flush=True)
