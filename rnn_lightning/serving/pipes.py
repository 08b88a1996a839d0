"""Pipes between LitServe's processes, in place of its queues: requests from each HTTP process to the
model workers, answers back to the HTTP process that asked, with no thread, manager or broker between.

LitServe 0.2.19 sends answers through `Manager().Queue()` proxies, which each HTTP process reads through
`asyncio.to_thread` (a thread hand-off plus a round trip through the manager process per answer; its
`fast_queue=True` means to use ZeroMQ instead, but a misspelt setting leaves the manager queues in
place); requests went through a `multiprocessing.Queue`, whose feeder thread competes with the event
loop for the GIL. Profiled under load (docs/serving.md), those took more of an HTTP process than the
HTTP stack itself. Here every message is one frame, multiprocessing's own (a 4-byte length, then the
pickle), on an OS pipe: the HTTP processes write and read theirs from the event loop without blocking
it; a model worker reads requests and writes answers with plain blocking calls.
"""

import asyncio
import multiprocessing as mp
import os
import pickle
import struct
from collections import deque
from multiprocessing.connection import wait
from queue import Empty
from typing import Any

from litserve.transport.base import MessageTransport

HEADER = struct.Struct("!i")  # multiprocessing.Connection's frame header, so `recv_bytes` reads our frames


def frame(item: Any) -> bytes:
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


class NonBlockingWriter:
    """Writes frames to a pipe from an event loop: what the pipe cannot take at once waits in a buffer
    and goes out when the pipe has room again, in order, so the loop never blocks on a slow reader."""

    def __init__(self, fd: int) -> None:
        self.fd, self.pending = fd, bytearray()
        os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        if self.pending:
            self.pending += data
            return
        try:
            written = os.write(self.fd, data)
        except BlockingIOError:
            written = 0
        if written < len(data):
            self.pending += data[written:]
            asyncio.get_running_loop().add_writer(self.fd, self._flush)

    def _flush(self) -> None:
        try:
            written = os.write(self.fd, self.pending)
        except BlockingIOError:
            return
        del self.pending[:written]
        if not self.pending:
            asyncio.get_running_loop().remove_writer(self.fd)


class RequestPipes:
    """LitServe's request queue (`put` in the HTTP processes, `get`/`get_nowait` in the model workers),
    as one pipe per HTTP process: one writer each, so its frames never interleave with another's."""

    def __init__(self, senders: int) -> None:
        context = mp.get_context("spawn")
        self._pipes = [context.Pipe(duplex=False) for _ in range(senders)]  # (reader, writer) each
        self._read_locks = [context.Lock() for _ in range(senders)]  # workers take whole frames
        self._writer: NonBlockingWriter | None = None
        self._ready: deque = deque()

    def __getstate__(self) -> dict:
        return {"_pipes": self._pipes, "_read_locks": self._read_locks}  # for the spawned workers

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _writer=None, _ready=deque())

    def put(self, item: tuple, block: bool = True, timeout: float | None = None) -> None:
        """From an HTTP process's event loop; `item[0]` is that process's number (its response queue)."""
        if self._writer is None:
            self._writer = NonBlockingWriter(self._pipes[item[0]][1].fileno())
        self._writer.write(frame(item))

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The next request, waiting up to `timeout` seconds for one (forever with None); `Empty` if none."""
        readers = [reader for reader, _ in self._pipes]
        while not self._ready:
            ready = wait(readers, timeout if block else 0)
            if not ready:
                raise Empty
            for reader in ready:
                self._take_one(readers.index(reader))
            if not block or timeout is not None:
                break  # one look, as `Queue.get` with a timeout: another worker may have taken it
        if not self._ready:
            raise Empty
        return self._ready.popleft()

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def _take_one(self, index: int) -> None:
        reader, lock = self._pipes[index][0], self._read_locks[index]
        if lock.acquire(block=False):
            try:
                if reader.poll(0):  # still there: another worker may have taken it meanwhile
                    self._ready.append(pickle.loads(reader.recv_bytes()))
            finally:
                lock.release()


class AnswerPipes(MessageTransport):
    """LitServe's transport for answers: one pipe per HTTP process, written by the model workers (a lock
    each, so that two workers' frames never interleave) and read by that process's event loop."""

    def __init__(self, consumers: int) -> None:
        context = mp.get_context("spawn")
        self._pipes = [context.Pipe(duplex=False) for _ in range(consumers)]
        self._write_locks = [context.Lock() for _ in range(consumers)]
        self._stream: asyncio.StreamReader | None = None

    def __getstate__(self) -> dict:
        return {"_pipes": self._pipes, "_write_locks": self._write_locks}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _stream=None)

    def send(self, item: Any, consumer_id: int) -> None:
        """In a model worker: a plain blocking write, whole frame under the pipe's lock."""
        data = frame(item)
        fd = self._pipes[consumer_id][1].fileno()
        with self._write_locks[consumer_id]:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]

    async def areceive(self, consumer_id: int | None = None, timeout: float | None = None) -> Any:
        """In HTTP process `consumer_id`: the next answer, read without blocking the event loop."""
        if self._stream is None:
            self._stream = await self._open(self._pipes[consumer_id or 0][0].fileno())
        try:
            read = self._read_frame()
            return await (asyncio.wait_for(read, timeout) if timeout is not None else read)
        except asyncio.TimeoutError:
            raise Empty from None

    async def _read_frame(self) -> Any:
        (size,) = HEADER.unpack(await self._stream.readexactly(HEADER.size))
        return pickle.loads(await self._stream.readexactly(size))

    @staticmethod
    async def _open(fd: int) -> asyncio.StreamReader:
        stream = asyncio.StreamReader(limit=1 << 26)
        pipe = os.fdopen(os.dup(fd), "rb", buffering=0)  # the loop owns (and closes) its own copy
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), pipe)
        return stream

    def close(self, **kwargs) -> None:
        """Nothing to wake: LitServe ends the HTTP processes and workers that hold the pipes."""
