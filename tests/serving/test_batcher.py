"""The dynamic batcher's rules, each checked by what `run_batch` was given (no timing assertions)."""

import asyncio
import threading

import pytest

from rnn_lightning.serving.batcher import DynamicBatcher


class Recorder:
    """A `run_batch` that records each batch it is given; it fails on any item that is "bad"."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list] = []
        self.threads: set[int] = set()
        self.gate = gate

    def __call__(self, items: list) -> list:
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        if "bad" in items:
            raise ValueError("a bad item")
        return [f"answer to {item}" for item in items]


def test_a_batch_closes_at_max_batch_size():
    async def scenario():
        run = Recorder()
        async with DynamicBatcher(run, max_batch_size=4, batch_timeout=60) as batcher:
            answers = await asyncio.gather(*(batcher.submit(i) for i in range(8)))
        return run, answers

    run, answers = asyncio.run(scenario())
    assert answers == [f"answer to {i}" for i in range(8)]
    assert run.batches == [[0, 1, 2, 3], [4, 5, 6, 7]]  # a 60 s timeout never came into it


def test_a_batch_closes_at_its_timeout_with_fewer_requests():
    async def scenario():
        run = Recorder()
        async with DynamicBatcher(run, max_batch_size=100, batch_timeout=0.01) as batcher:
            first = await asyncio.gather(batcher.submit("a"), batcher.submit("b"))
            second = await batcher.submit("c")
        return run, first, second

    run, first, second = asyncio.run(scenario())
    assert first == ["answer to a", "answer to b"] and second == "answer to c"
    assert run.batches == [["a", "b"], ["c"]]


def test_the_model_runs_off_the_event_loop():
    async def scenario():
        gate = threading.Event()
        run = Recorder(gate)
        async with DynamicBatcher(run, max_batch_size=1, batch_timeout=0) as batcher:
            pending = asyncio.ensure_future(batcher.submit(1))
            await asyncio.sleep(0.05)  # on the loop, a model blocked on its gate would stall this 10 s
            waiting = not pending.done()
            gate.set()
            answer = await pending
        return run, waiting, answer

    run, waiting, answer = asyncio.run(scenario())
    assert waiting and answer == "answer to 1"
    assert threading.get_ident() not in run.threads and len(run.threads) == 1


def test_a_bad_item_fails_alone_and_its_neighbours_get_their_answers():
    async def scenario():
        run = Recorder()
        async with DynamicBatcher(run, max_batch_size=3, batch_timeout=60) as batcher:
            return run, await asyncio.gather(
                *(batcher.submit(i) for i in (1, "bad", 2)), return_exceptions=True
            )

    run, answers = asyncio.run(scenario())
    assert answers[0] == "answer to 1" and answers[2] == "answer to 2"
    assert isinstance(answers[1], ValueError)
    assert run.batches[0] == [1, "bad", 2]  # tried together first


def test_a_caller_that_leaves_does_not_break_its_batch():
    async def scenario():
        gate = threading.Event()
        run = Recorder(gate)
        async with DynamicBatcher(run, max_batch_size=3, batch_timeout=0.5) as batcher:
            tasks = [asyncio.ensure_future(batcher.submit(i)) for i in range(3)]
            await asyncio.sleep(0.05)  # the batch is in the model now
            tasks[1].cancel()  # its client disconnected
            gate.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            after = await batcher.submit(9)  # the batcher still serves
        return results, after

    results, after = asyncio.run(scenario())
    assert results[0] == "answer to 0" and results[2] == "answer to 2"
    assert isinstance(results[1], asyncio.CancelledError)
    assert after == "answer to 9"


def test_a_caller_that_left_before_its_batch_ran_is_not_computed():
    async def scenario():
        run = Recorder()
        async with DynamicBatcher(run, max_batch_size=3, batch_timeout=60) as batcher:
            gone = asyncio.ensure_future(batcher.submit("gone"))
            await asyncio.sleep(0)
            gone.cancel()
            answers = await asyncio.gather(batcher.submit(1), batcher.submit(2))
        return run, answers

    run, answers = asyncio.run(scenario())
    assert answers == ["answer to 1", "answer to 2"] and run.batches == [[1, 2]]


@pytest.mark.parametrize(("size", "timeout"), [(0, 0.1), (4, -1)])
def test_settings_out_of_range_are_refused(size, timeout):
    with pytest.raises(ValueError):
        DynamicBatcher(Recorder(), max_batch_size=size, batch_timeout=timeout)
