"""A cosine learning-rate schedule whose length the command fills from the run, and the filling of that
length and of one-cycle's `total_steps` from the run's config (before the classes are built)."""

import torch

from rnn_lightning.errors import UserInputError


class CosineAnnealingLR(torch.optim.lr_scheduler.CosineAnnealingLR):
    """PyTorch's cosine schedule with `T_max` optional: left out, the CLI sets it to the run's length
    (`trainer.max_epochs`, or `trainer.max_steps` stepped every step where the run counts no epochs), so
    that a config never matches it to the trainer by hand. An explicit `T_max` is kept."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        T_max: int | None = None,  # PyTorch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if T_max is None:
            raise UserInputError(
                "lr_scheduler CosineAnnealingLR needs T_max, or trainer.max_epochs or max_steps to span"
            )
        super().__init__(optimizer, T_max, eta_min, last_epoch)


def fit_one_cycle_to_the_run(config) -> None:
    """A one-cycle schedule without `total_steps` spans the run's `trainer.max_steps`; one shorter than
    the run is one clear line now rather than torch's error in the middle of training."""
    scheduler = config.get("lr_scheduler")
    if scheduler is None or not str(scheduler.get("class_path", "")).endswith("OneCycleLR"):
        return
    arguments, max_steps = scheduler.init_args, config.trainer.max_steps
    if arguments.get("total_steps") is None and arguments.get("epochs") is None:
        if max_steps is None or max_steps < 1:
            raise UserInputError("lr_scheduler OneCycleLR needs total_steps, or trainer.max_steps to span")
        arguments["total_steps"] = max_steps
    elif arguments.get("total_steps") is not None and max_steps and max_steps > arguments["total_steps"]:
        raise UserInputError(
            f"lr_scheduler OneCycleLR spans {arguments['total_steps']} steps but trainer.max_steps is "
            f"{max_steps}; leave total_steps out to span the run"
        )


# The class paths a config may name it by: the package's top-level name and its own module's.
COSINE = {f"rnn_lightning.{CosineAnnealingLR.__name__}", f"{__name__}.{CosineAnnealingLR.__name__}"}


def fit_cosine_to_the_run(config) -> bool:
    """`rnn_lightning.CosineAnnealingLR` without `T_max` spans the run: `trainer.max_epochs` epochs,
    stepped once an epoch (LightningCLI's way), or, in a run bounded by `trainer.max_steps` alone, that
    many steps, stepped every step. Returns whether it is stepped every step. An explicit `T_max` is kept
    (PyTorch's own class, which requires it, is left to LightningCLI as it is)."""
    scheduler = config.get("lr_scheduler")
    if scheduler is None or str(scheduler.get("class_path", "")) not in COSINE:
        return False
    arguments, trainer = scheduler.init_args, config.trainer
    epochs = trainer.max_epochs if trainer.max_epochs not in (None, -1) else None
    steps = trainer.max_steps if trainer.max_steps not in (None, -1) else None
    if epochs is None and steps is not None:
        if arguments.get("T_max") is None:
            arguments["T_max"] = steps
        return True
    if arguments.get("T_max") is None:
        if epochs is None:
            raise UserInputError(
                "lr_scheduler CosineAnnealingLR needs T_max, or trainer.max_epochs or max_steps to span"
            )
        arguments["T_max"] = epochs
    return False
