"""The TensorFlow tutorial's LSTM on MNIST rows, rebuilt as a PyTorch Lightning project."""

from rnn_lightning.checkpoint import FinalStepCheckpoint
from rnn_lightning.data import MNISTDataModule
from rnn_lightning.guard import StopOnNonFiniteLoss
from rnn_lightning.history import TrainingHistory
from rnn_lightning.module import SequenceClassifier
from rnn_lightning.network import RecurrentNetwork

__all__ = [
    "FinalStepCheckpoint",
    "MNISTDataModule",
    "RecurrentNetwork",
    "SequenceClassifier",
    "StopOnNonFiniteLoss",
    "TrainingHistory",
]
