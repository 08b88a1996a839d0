"""Whole-batch iteration over in-memory uint8 tensors.

A `DataLoader` over a per-sample dataset calls `__getitem__` 128 times and collates every step; here
one index tensor gathers the whole batch from the split held in memory (on the training device), which
is what lets the Lightning fit path keep pace with a bare PyTorch loop.
"""

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor


class BatchOrder:
    """Which samples form each batch of an epoch, for one rank of `world_size`.

    The order of epoch `e` is a permutation drawn from `seed + e` alone, so it can be rebuilt after a
    restart; `state_dict()` records the seed, the epoch and how many of its batches were handed out, and
    `load_state_dict()` makes the next pass start after them (a resume in mid-epoch).
    Training shards keep equal batch counts on every rank (DDP steps together); evaluation shards keep
    every sample exactly once, so synced metrics cover the whole split.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        even_shards: bool = False,
    ) -> None:
        self.size, self.batch_size, self.shuffle, self.seed = size, batch_size, shuffle, seed
        self.rank, self.world_size, self.even_shards = rank, world_size, even_shards
        self.epoch = 0
        self.device = torch.device("cpu")  # where the index batches are made: the data's device
        self.handed_out = 0  # batches of this epoch given to the loop so far
        self._resume_at = 0  # where the next pass starts: 0, or a restored `handed_out`

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning's loops before every epoch."""
        if epoch != self.epoch:
            self.epoch, self.handed_out, self._resume_at = epoch, 0, 0

    def _shard(self) -> Tensor:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.arange(self.size)
        if self.even_shards:
            order = order[: self.size - self.size % self.world_size]
        return order[self.rank :: self.world_size]

    def __len__(self) -> int:
        shard = (
            self.size // self.world_size
            if self.even_shards
            else len(range(self.rank, self.size, self.world_size))
        )
        return -(-shard // self.batch_size)

    def __iter__(self) -> Iterator[Tensor]:
        start, self._resume_at = self._resume_at, 0
        # One host-to-device copy of the epoch's order, not one per batch (each could stall a GPU).
        batches = self._shard().to(self.device).split(self.batch_size)
        for index in range(start, len(batches)):
            # Lightning takes a batch only when it trains on it (it does not prefetch from an iterable
            # with a length), so a checkpoint written after step k finds k batches handed out.
            self.handed_out = index + 1
            yield batches[index]

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "epoch": self.epoch, "handed_out": self.handed_out}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.handed_out = state["seed"], state["epoch"], state["handed_out"]
        self._resume_at = self.handed_out


class RandomShift:
    """Moves each image by up to `pixels` in each direction, filling with black: the classic MNIST
    augmentation. The offsets of a batch are drawn from (seed, epoch, batch number) alone, so a resumed
    run shifts exactly as an uninterrupted one.

    Written here rather than taken from torchvision: its `v2.RandomCrop(padding=...)` on a batch tensor
    draws one offset for the whole batch and from the global generator; this draws one per image, from
    a generator of its own, in one gather on the data's device.
    """

    def __init__(self, pixels: int) -> None:
        self.pixels = pixels

    def __call__(self, images: Tensor, seed: int) -> Tensor:
        count, height, width = images.shape
        margin = self.pixels
        padded = torch.nn.functional.pad(images, (margin, margin, margin, margin))
        generator = torch.Generator().manual_seed(seed)
        offsets = torch.randint(0, 2 * margin + 1, (count, 2), generator=generator).to(images.device)
        rows = offsets[:, :1] + torch.arange(height, device=images.device)  # (count, height)
        cols = offsets[:, 1:] + torch.arange(width, device=images.device)  # (count, width)
        batch = torch.arange(count, device=images.device)[:, None, None]
        return padded[batch, rows[:, :, None], cols[:, None, :]]


class InMemoryBatches:
    """Iterable of `(inputs, labels)` batches gathered from `images` by a `BatchOrder`.

    `to_inputs` turns a gathered uint8 batch into the model's float sequences; `augment`, when given,
    shifts the training images first. Lightning sets the epoch through `.sampler.set_epoch` and saves
    `state_dict()` in checkpoints (a stateful loader).
    """

    batch_sampler = None  # Lightning inspects DataLoader-like attributes; the order lives in `.sampler`

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        order: BatchOrder,
        to_inputs: Callable[[Tensor], Tensor],
        augment: RandomShift | None = None,
    ) -> None:
        self.images, self.labels, self.sampler, self.to_inputs = images, labels, order, to_inputs
        self.augment = augment
        order.device = images.device

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self.sampler
        for index in order:
            # index_select gathers the same rows as `images[index]`, much faster on CPU, where indexing
            # takes a general path (benchmarks/overhead.py measures both).
            images = self.images.index_select(0, index)
            if self.augment is not None:
                # hash() of a tuple of ints is the same in every process (unlike that of a str)
                batch_seed = hash((order.seed, order.epoch, order.handed_out)) % 2**63
                images = self.augment(images, seed=batch_seed)
            yield self.to_inputs(images), self.labels.index_select(0, index)

    def state_dict(self) -> dict[str, Any]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state)
