"""The TensorFlow tutorial's LSTM on MNIST rows, rebuilt as a PyTorch Lightning project.

The public classes are imported on first use (PEP 562), so that importing the package, as
`python -m rnn_lightning` does before its `__main__`, loads neither PyTorch nor Lightning yet: the
command sets up its start-up first (`heap.py`)."""

from importlib import import_module

_HOMES = {
    "FinalStepCheckpoint": "rnn_lightning.checkpoint",
    "MNISTDataModule": "rnn_lightning.data",
    "RecurrentNetwork": "rnn_lightning.network",
    "SequenceClassifier": "rnn_lightning.module",
    "StopOnNonFiniteLoss": "rnn_lightning.guard",
    "TrainingHistory": "rnn_lightning.history",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'rnn_lightning' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
