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
    restart; `position` (the next batch to serve) is saved and restored to resume mid-epoch.
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
        self.position = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning's fit loop before every epoch."""
        if epoch != self.epoch:
            self.epoch, self.position = epoch, 0

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
        batches = self._shard().split(self.batch_size)
        for index in range(self.position, len(batches)):
            # Set before the batch is handed out: Lightning prefetches one batch, so when a checkpoint is
            # written after step k the position already points at batch k + 1, the next one to train.
            self.position = index
            yield batches[index]
        self.position = 0  # a finished pass leaves the order ready for the next (validation reuses it)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = state["epoch"], state["position"]


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
