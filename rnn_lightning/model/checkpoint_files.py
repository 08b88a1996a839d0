"""Reading a checkpoint file with one clear line for every way it can be wrong, and finding the newest."""

from pathlib import Path

import torch

from rnn_lightning.errors import UserInputError


def newest_last_checkpoint(root: Path) -> Path:
    """`last.ckpt` of the newest `version_N` run under `root` (`--ckpt_path last`)."""
    candidates = []
    for path in Path(root).glob("version_*/checkpoints/last.ckpt"):
        suffix = path.parent.parent.name.removeprefix("version_")
        if suffix.isdigit():
            candidates.append((int(suffix), path))
    if not candidates:
        raise UserInputError(f"--ckpt_path last: no {root}/version_*/checkpoints/last.ckpt to resume from")
    return max(candidates)[1]


def load_checkpoint(path: Path) -> dict:
    """The checkpoint's contents; one clear line if it is missing, unreadable or not Lightning's."""
    if not path.is_file():
        raise UserInputError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserInputError(f"checkpoint {path} cannot be read: {reason}") from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise UserInputError(f"{path} is not a Lightning checkpoint (it holds no state_dict)")
    return checkpoint
