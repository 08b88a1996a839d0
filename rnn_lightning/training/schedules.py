"""A cosine learning-rate schedule whose length the command fills from the run, as it fills one-cycle's."""

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
