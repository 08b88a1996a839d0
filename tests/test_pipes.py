"""The pipes between the server's processes: whole frames, in order, never blocking an event loop."""

import asyncio
import multiprocessing as mp
import os
import queue
import threading

import pytest

from rnn_lightning.serving.pipes import AnswerPipes, RequestPipes


def test_requests_cross_whole_and_in_order_and_a_full_pipe_does_not_block_the_loop():
    pipes = RequestPipes(senders=2)
    items = [(1, uid, 0.0, os.urandom(100_000)) for uid in range(40)]  # 4 MB; a pipe holds 64 KB
    received = []

    async def send_all() -> None:
        for item in items:
            pipes.put(item)  # would hang here, nobody reading yet, if a full pipe blocked the loop
        assert pipes._writer.pending, "the pipe took 4 MB at once: this test no longer tests buffering"
        reader = threading.Thread(target=lambda: received.extend(pipes.get(timeout=10) for _ in items))
        reader.start()
        while pipes._writer.pending:
            await asyncio.sleep(0.001)
        await asyncio.to_thread(reader.join)

    asyncio.run(send_all())
    assert received == items


def test_get_waits_up_to_its_timeout_then_says_empty_as_litserves_loop_expects():
    pipes = RequestPipes(senders=1)
    with pytest.raises(queue.Empty):
        pipes.get(timeout=0.01)
    with pytest.raises(queue.Empty):
        pipes.get_nowait()


def _send_answers(pipes: AnswerPipes, sender: int, count: int) -> None:
    for number in range(count):
        pipes.send((sender, number, bytes([sender]) * 50_000), consumer_id=1)


def test_answers_from_two_worker_processes_arrive_whole_at_their_consumer():
    pipes = AnswerPipes(consumers=2)
    context = mp.get_context("spawn")  # as LitServe starts its workers: the pipes travel by pickling
    workers = [context.Process(target=_send_answers, args=(pipes, sender, 30)) for sender in (1, 2)]
    for worker in workers:
        worker.start()

    async def receive_all() -> list:
        return [await pipes.areceive(consumer_id=1, timeout=30) for _ in range(60)]

    answers = asyncio.run(receive_all())
    for worker in workers:
        worker.join(timeout=30)
    for sender in (1, 2):
        mine = [answer for answer in answers if answer[0] == sender]
        assert [number for _, number, _ in mine] == list(range(30))  # each worker's answers in order
        assert all(payload == bytes([sender]) * 50_000 for _, _, payload in mine)  # never interleaved
