"""The delivery loop against a real store: batching by size and timeout, retries, the
dead-letter queue (rules of workers-sdk packages/miniflare/src/workers/queues/broker.worker.ts,
``#flush``: a message failing ``max_retries + 1`` times moves to ``dead_letter_queue``)."""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from wranglerpy.bindings.queues.batch import MessageBatch
from wranglerpy.bindings.queues.consumer import QueueConsumerLoop
from wranglerpy.bindings.queues.producer import QueueProducerBinding
from wranglerpy.bindings.queues.store import QueueStore
from wranglerpy.config.queues import QueueConsumer


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[QueueStore]:
    s = QueueStore(tmp_path / "q.sqlite")
    yield s
    s.close()


class Loops:
    def __init__(self, store: QueueStore) -> None:
        self.store = store
        self.logs: list[tuple[str, str]] = []
        self.running: list[tuple[QueueConsumerLoop, asyncio.Task[None]]] = []

    def start(self, consumer: QueueConsumer, handler: Callable[[MessageBatch], object]) -> None:
        async def handle(batch: MessageBatch) -> None:
            result = handler(batch)
            if asyncio.iscoroutine(result):
                await result

        loop = QueueConsumerLoop(
            self.store, consumer, handle, lambda lvl, msg: self.logs.append((lvl, msg)),
            poll_seconds=0.01,
        )  # fmt: skip
        self.running.append((loop, asyncio.ensure_future(loop.run())))

    async def stop(self) -> None:
        for loop, task in self.running:
            loop.stop()
            await task


@pytest.fixture
async def loops(store: QueueStore) -> AsyncIterator[Loops]:
    runner = Loops(store)
    yield runner
    await runner.stop()


async def test_a_partial_batch_is_delivered_after_the_batch_timeout(
    store: QueueStore, loops: Loops
) -> None:
    batches: asyncio.Queue[list[str]] = asyncio.Queue()
    consumer = QueueConsumer("jobs", max_batch_size=10, max_batch_timeout=1.0)
    loops.start(consumer, lambda b: batches.put_nowait([m.body for m in b.messages]))
    producer = QueueProducerBinding(store, "jobs")
    for i in range(3):
        await producer.send(i)
    # Three messages sent well within the timeout arrive together, as one partial batch.
    assert await asyncio.wait_for(batches.get(), 10) == [0, 1, 2]
    assert ("info", "QUEUE jobs 3/3") == (loops.logs[-1][0], loops.logs[-1][1].rsplit(" ", 1)[0])


async def test_a_full_batch_does_not_wait(store: QueueStore, loops: Loops) -> None:
    batches: asyncio.Queue[int] = asyncio.Queue()
    producer = QueueProducerBinding(store, "jobs")
    await producer.sendBatch([{"body": i} for i in range(4)])
    # The timeout is a minute: only the size rule can deliver these within the test.
    loops.start(
        QueueConsumer("jobs", max_batch_size=2, max_batch_timeout=60),
        lambda b: batches.put_nowait(len(b.messages)),
    )
    assert [await asyncio.wait_for(batches.get(), 10) for _ in range(2)] == [2, 2]


async def test_failures_retry_then_move_to_the_dead_letter_queue(
    store: QueueStore, loops: Loops
) -> None:
    attempts: list[int] = []
    dead: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    def fail(batch: MessageBatch) -> None:
        attempts.extend(m.attempts for m in batch.messages)
        raise RuntimeError("boom")

    loops.start(
        QueueConsumer("jobs", max_batch_size=1, max_batch_timeout=0, max_retries=2,
                      dead_letter_queue="jobs-dlq"),
        fail,
    )  # fmt: skip
    loops.start(
        QueueConsumer("jobs-dlq", max_batch_size=1, max_batch_timeout=0),
        lambda b: dead.put_nowait((b.messages[0].body, b.messages[0].attempts)),
    )
    await QueueProducerBinding(store, "jobs").send("poison")
    assert await asyncio.wait_for(dead.get(), 10) == ("poison", 1)
    assert attempts == [1, 2, 3]
    assert any(
        'to dead letter queue "jobs-dlq" after 3 failed attempts' in m for _, m in loops.logs
    )
    assert any(lvl == "error" and "RuntimeError: boom" in m for lvl, m in loops.logs)


async def test_explicit_retry_with_delay_then_ack(store: QueueStore, loops: Loops) -> None:
    seen: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    def handle(batch: MessageBatch) -> None:
        for m in batch.messages:
            seen.put_nowait((m.body, m.attempts))
            if m.attempts == 1:
                m.retry(delaySeconds=0)

    loops.start(QueueConsumer("jobs", max_batch_size=5, max_batch_timeout=0), handle)
    await QueueProducerBinding(store, "jobs").send("again")
    assert [await asyncio.wait_for(seen.get(), 10) for _ in range(2)] == [
        ("again", 1),
        ("again", 2),
    ]


async def test_two_consumers_of_one_queue_never_share_a_message(tmp_path: Path) -> None:
    """Two delivery loops on separate connections (two processes of one consumer worker):
    each message is delivered to exactly one of them."""
    stores = [QueueStore(tmp_path / "shared.sqlite") for _ in range(2)]
    seen: list[int] = []
    done = asyncio.Event()

    async def handle(batch: MessageBatch) -> None:
        seen.extend(m.body for m in batch.messages)
        await asyncio.sleep(0.005)
        if len(seen) >= 200:
            done.set()

    consumer = QueueConsumer("jobs", max_batch_size=7, max_batch_timeout=0)
    loops = [
        QueueConsumerLoop(s, consumer, handle, lambda _l, _m: None, poll_seconds=0.005)
        for s in stores
    ]
    tasks = [asyncio.ensure_future(loop.run()) for loop in loops]
    producer = QueueProducerBinding(stores[0], "jobs")
    for start in range(0, 200, 50):
        await producer.sendBatch([{"body": i} for i in range(start, start + 50)])
    await asyncio.wait_for(done.wait(), 30)
    for loop in loops:
        loop.stop()
    await asyncio.gather(*tasks)
    for s in stores:
        s.close()
    assert sorted(seen) == list(range(200))
