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
        batches = self._shard().split(self.batch_size)
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


class InMemoryBatches:
    """Iterable of `(inputs, labels)` batches gathered from `images` by a `BatchOrder`.

    `to_inputs` turns a gathered uint8 batch into the model's float sequences. Lightning sets the epoch
    through `.sampler.set_epoch` and saves `state_dict()` in checkpoints (a stateful loader).
    """

    batch_sampler = None  # Lightning inspects DataLoader-like attributes; the order lives in `.sampler`

    def __init__(
        self, images: Tensor, labels: Tensor, order: BatchOrder, to_inputs: Callable[[Tensor], Tensor]
    ) -> None:
        self.images, self.labels, self.sampler, self.to_inputs = images, labels, order, to_inputs

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for index in self.sampler:
            index = index.to(self.images.device, non_blocking=True)
            yield self.to_inputs(self.images[index]), self.labels[index]

    def state_dict(self) -> dict[str, Any]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state)
