"""What a run trained on, read off the Trainer, for the titles of its pictures."""

import lightning as L

from rnn_lightning.data.datamodule import class_names as names_of
from rnn_lightning.model.description import describe_run


def run_title(trainer: L.Trainer, pl_module: L.LightningModule) -> str:
    """`LSTM 128, 1 layer, on MNIST rows`: the model's and the data's hyper-parameters."""
    datamodule = getattr(trainer, "datamodule", None)
    data = dict(getattr(datamodule, "hparams", {}) or {})
    return describe_run(dict(pl_module.hparams), data)


def split_size(trainer: L.Trainer, name: str) -> int | None:
    """How many images the data module holds in split `name`, or None if it has no such split."""
    datamodule = getattr(trainer, "datamodule", None)
    try:
        return len(datamodule.split(name)[0])
    except (AttributeError, KeyError):
        return None


def class_names(trainer: L.Trainer, num_classes: int) -> list[str]:
    """Digits for MNIST, torchvision's class names for Fashion-MNIST."""
    return names_of(getattr(getattr(trainer, "datamodule", None), "dataset_class", None), num_classes)
