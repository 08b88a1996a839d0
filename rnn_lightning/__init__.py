"""The TensorFlow tutorial's LSTM on MNIST rows, rebuilt as a PyTorch Lightning project.

    data/        MNIST as sequences (the LightningDataModule) and image files
    model/       the plain nn.Module and the LightningModule
    checkpointing/ what a fit writes (the final step, Ctrl-C, never NaN) and how commands read it
    training/    callbacks of a fit: the tutorial's report, the NaN guard, Ctrl-C
    report/      what a test or a prediction leaves: metrics, pictures, CSV files
    serving/     `serve`: the HTTP app, its contract, its batcher and page
    export/      `export`: a checkpoint as one ONNX or torch.export file that reads digits
    cli/         the command line, its parsers and the table of renamed class paths
    program.py, errors.py, garbage_collector.py: the command's name, its one-line errors, its start-up
    workarounds/ each place that leans on another library's internals, with its upstream issue

The classes that configs name are imported on first use (PEP 562), so that `python -m rnn_lightning`
loads neither PyTorch nor Lightning before its start-up is set up (`garbage_collector.py`).
"""

from importlib import import_module

__version__ = "0.2.0"  # pyproject.toml reads it from here (`python -m rnn_lightning --version`)

_HOMES = {
    "CosineAnnealingLR": "rnn_lightning.training.schedules",
    "EvaluationReport": "rnn_lightning.report.evaluation_report",
    "FinalStepCheckpoint": "rnn_lightning.checkpointing.final_step",
    "MNISTDataModule": "rnn_lightning.data.datamodule",
    "MuonAdamW": "rnn_lightning.training.muon_adamw",
    "RecurrentNetwork": "rnn_lightning.model.network",
    "SequenceClassifier": "rnn_lightning.model.classifier",
    "StderrProgressBar": "rnn_lightning.training.progress_bar",
    "StopOnNonFiniteLoss": "rnn_lightning.training.divergence",
    "TrainingHistory": "rnn_lightning.training.history",
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
