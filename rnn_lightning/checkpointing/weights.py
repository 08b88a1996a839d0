"""Fine-tuning's start: a trained model's weights loaded into a new run, nothing else of its run."""

import sys
from pathlib import Path

import torch

from rnn_lightning.checkpointing.files import check_model_shape, load_checkpoint
from rnn_lightning.errors import UserInputError


def load_weights(model: torch.nn.Module, path: Path, datamodule=None) -> None:
    """Loads the `state_dict` of checkpoint `path` into `model` after checking its names and shapes; with
    the run's data module, also that the checkpoint read images the same way (sequence, pixel order),
    which shapes alone cannot tell for `pixels` against `permuted`. Optimizer, schedule, step, data order
    and generators are left as a new run has them: `--ckpt_path` is the way to resume instead."""
    checkpoint = load_checkpoint(path)
    check_model_shape(path, checkpoint["state_dict"], model)
    saved = checkpoint.get(type(datamodule).__name__) if datamodule is not None else None
    if saved is not None and hasattr(datamodule, "state_dict") and saved != datamodule.state_dict():
        raise UserInputError(
            f"model.init_from {path} read images as sequence {saved.get('sequence')!r} with its own pixel "
            f"order; set data.sequence and data.permutation_seed as its run did"
        )
    model.load_state_dict(checkpoint["state_dict"])
    print(
        f"Starting from the weights of {path} (step {checkpoint.get('global_step', '?')}); optimizer, "
        "schedule and step start afresh",
        file=sys.stderr,
        flush=True,
    )
