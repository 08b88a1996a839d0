"""Dynamic batching in one server process: a batch closes at `max_batch_size` requests or `batch_timeout`
seconds after its first, whichever comes first; the model runs in a thread of its own, off the event loop."""

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class DynamicBatcher:
    """`await batcher.submit(item)` is `run_batch([..., item, ...])`'s result for that item, in `async with`.

    A batch that raises is run again item by item, so a bad item fails alone, never its neighbours; a
    caller that stops waiting (its client gone) is left out of its batch, or leaves it to finish.
    """

    def __init__(self, run_batch: Callable[[list], Sequence], max_batch_size: int, batch_timeout: float):
        if max_batch_size < 1 or batch_timeout < 0:
            raise ValueError("max_batch_size must be at least 1 and batch_timeout not negative")
        self.run_batch, self.max_batch_size, self.batch_timeout = run_batch, max_batch_size, batch_timeout
        self._queue: asyncio.Queue[tuple[Any, asyncio.Future]] = asyncio.Queue()
        self._model_thread = ThreadPoolExecutor(1, thread_name_prefix="model")

    async def __aenter__(self) -> "DynamicBatcher":
        self._task = asyncio.create_task(self._serve())
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._model_thread.shutdown()

    async def submit(self, item: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _next_batch(self) -> list[tuple[Any, asyncio.Future]]:
        batch = [await self._queue.get()]
        deadline = asyncio.get_running_loop().time() + self.batch_timeout
        while len(batch) < self.max_batch_size:
            try:
                remaining = max(0.0, deadline - asyncio.get_running_loop().time())
                batch.append(self._queue.get_nowait() if self._queue.qsize() else
                             await asyncio.wait_for(self._queue.get(), remaining))  # fmt: skip
            except asyncio.TimeoutError:
                break
        return [(item, future) for item, future in batch if not future.done()]  # done: its caller left

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            groups = [await self._next_batch()]
            while groups:
                group = groups.pop()
                try:
                    items = [item for item, _ in group]
                    results = await loop.run_in_executor(self._model_thread, self.run_batch, items)
                except Exception as error:
                    if len(group) > 1:  # find the item that failed: each of the others gets its answer
                        groups.extend([member] for member in group)
                    elif not group[0][1].done():
                        group[0][1].set_exception(error)
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    if not future.done():
                        future.set_result(result)
