"""Reading a checkpoint file with one clear line for every way it can be wrong, finding the newest run's
`last.ckpt` for every subcommand, and checking that a checkpoint's weights fit the model at hand."""

from pathlib import Path
from typing import TYPE_CHECKING

from rnn_lightning.checkpointing.file_kinds import what_it_is, where_the_checkpoint_is, why_torch_refused
from rnn_lightning.errors import UserInputError
from rnn_lightning.program import DEFAULTS

if TYPE_CHECKING:
    import torch

CHECKPOINT_OPTION_HELP = (
    "a checkpoint file, or 'last': the newest run's checkpoints/last.ckpt in the logger's folder"
)


def newest_last_checkpoint(root: Path, option: str = "--ckpt_path") -> Path:
    """`last.ckpt` of the newest `version_N` run under `root` (`--ckpt_path last`, `--model.init_from
    last`: `option` names it in the error)."""
    candidates = []
    for path in Path(root).glob("version_*/checkpoints/last.ckpt"):
        suffix = path.parent.parent.name.removeprefix("version_")
        if suffix.isdigit():
            candidates.append((int(suffix), path))
    if not candidates:
        purpose = "to start from" if option == "--model.init_from" else "to resume from"
        raise UserInputError(f"{option} last: no {root}/version_*/checkpoints/last.ckpt {purpose}")
    return max(candidates)[1]


def logger_folder(trainer=None) -> Path:
    """Where the runs are: the Trainer's logger's folder, where it makes a `version_N` per run; without a
    Trainer (`serve`, `export`), that of the logger in the defaults every run starts from (defaults.yaml)."""
    if trainer is not None:
        return Path(trainer.logger.root_dir) if trainer.logger is not None else Path(trainer.default_root_dir)
    import yaml

    logger = yaml.safe_load(DEFAULTS.read_text())["trainer"]["logger"]["init_args"]
    return Path(logger.get("save_dir", ".")) / logger.get("name", "lightning_logs")


def checkpoint_path(value: str, trainer=None, option: str = "--ckpt_path") -> Path:
    """What `--ckpt_path` names, for every subcommand: a file, or `last`, the newest run's `last.ckpt` in
    the logger's folder (`logger_folder`). Lightning's own `last` looks in the new run's folder, which is
    empty: every run gets a new folder here."""
    return newest_last_checkpoint(logger_folder(trainer), option) if value == "last" else Path(value)


def load_checkpoint(path: Path) -> dict:
    """The checkpoint's contents; one clear line if it is missing, not a checkpoint (saying what it is
    when it can tell: a folder, a YAML config, an ONNX model...), unreadable or not Lightning's."""
    import torch  # here: `serve --help` and `export --help` read this module, and need no PyTorch

    kind = what_it_is(path)
    if kind == "missing":
        raise UserInputError(f"checkpoint {path} does not exist")
    if kind is not None:
        raise UserInputError(f"{path} is not a checkpoint: it is {kind}{where_the_checkpoint_is(path)}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise UserInputError(f"checkpoint {path} cannot be read: {why_torch_refused(error)}") from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise UserInputError(f"{path} is not a Lightning checkpoint (it holds no state_dict)")
    return checkpoint


def check_model_shape(path: Path, state: dict, model: "torch.nn.Module") -> None:
    """Fails with one line unless the checkpoint's weights `state` fit `model`, name for name and shape
    for shape."""
    expected = model.state_dict()
    hint = "pass the config of the run that wrote it (--config lightning_logs/version_N/config.yaml)"
    for name in sorted(set(expected) ^ set(state)):
        raise UserInputError(
            f"checkpoint {path} is of a different model ({name} is in only one of them); {hint}"
        )
    for name, tensor in expected.items():
        if state[name].shape != tensor.shape:
            raise UserInputError(
                f"checkpoint {path} is of a different model shape: {name} is {tuple(state[name].shape)} "
                f"there and {tuple(tensor.shape)} here; {hint}"
            )
