"""How an image becomes a sequence: 28 rows of 28 pixels, 784 pixels of 1, or 784 permuted pixels."""

from typing import Literal

import torch
from torch import Tensor

SequenceKind = Literal["rows", "pixels", "permuted"]


def fixed_permutation(seed: int, length: int = 784) -> Tensor:
    """The one pixel order of permuted MNIST, rebuilt from its seed (saved with the run's config)."""
    return torch.randperm(length, generator=torch.Generator().manual_seed(seed))


class ToSequence:
    """Turns uint8 images (batch, 28, 28), or float ones on the same 0-255 scale, into float32 sequences
    in [0, 1]: (batch, steps, features)."""

    def __init__(self, kind: SequenceKind = "rows", permutation: Tensor | None = None) -> None:
        self.kind, self.permutation = kind, permutation

    @property
    def input_size(self) -> int:
        return 28 if self.kind == "rows" else 1

    def to(self, device: torch.device) -> "ToSequence":
        if self.permutation is not None:
            self.permutation = self.permutation.to(device)
        return self

    def __call__(self, images: Tensor) -> Tensor:
        # copy=True: a float32 input (an exported graph's) is scaled in a copy, never in the caller's tensor.
        pixels = images.to(torch.float32, copy=True).div_(255.0)
        if self.kind == "rows":
            return pixels
        pixels = pixels.flatten(1)
        if self.kind == "permuted":
            if self.permutation is None:
                raise ValueError("the permuted sequence needs a permutation")
            # index_select, not `pixels[:, permutation]`: the same columns, much faster on CPU
            # (benchmarks/overhead.py measures both).
            pixels = pixels.index_select(1, self.permutation)
        return pixels.unsqueeze(-1)

    def to_images(self, sequences: Tensor) -> Tensor:
        """The inverse: sequences back to uint8 images (batch, 28, 28), as the model's input showed them
        (the test report draws its mistakes from the very batch it was given)."""
        pixels = sequences.detach().float().mul(255.0).round_().clamp_(0, 255).flatten(1)
        if self.kind == "permuted":
            pixels = torch.empty_like(pixels).index_copy_(1, self.permutation, pixels)
        return pixels.to(torch.uint8).view(-1, 28, 28)
