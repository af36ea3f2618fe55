"""``send``/``sendBatch``: content types, delays, limits and their messages.

Messages follow workerd src/workerd/api/queue.c++ (``validateContentType``, ``serialize``,
"sendBatch() requires at least one message") and the limits of workers-sdk
packages/miniflare/src/workers/queues/broker.worker.ts (``MAX_MESSAGE_SIZE_BYTES``,
``MAX_MESSAGE_BATCH_COUNT``, ``MAX_MESSAGE_BATCH_SIZE``)."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bindings.conftest import NOW, Clock
from wranglerpy.bindings.queues.batch import MessageBatch
from wranglerpy.bindings.queues.producer import QueueProducerBinding, QueueSendError
from wranglerpy.bindings.queues.store import QueueStore


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[QueueStore]:
    s = QueueStore(tmp_path / "q.sqlite", clock=clock)
    yield s
    s.close()


@pytest.fixture
def queue(store: QueueStore) -> QueueProducerBinding:
    return QueueProducerBinding(store, "jobs")


def delivered(store: QueueStore, n: int = 100) -> MessageBatch:
    got = store.lease(
        "jobs", max_batch=n, batch_timeout=0, max_attempts=3, dead_letter_queue=None,
        lease_seconds=30,
    )  # fmt: skip
    if got.id:  # acknowledge them, so the lease does not bring them back later
        store.settle(got.id, acked={m.id for m in got.messages}, retried={}, max_attempts=3,
                     dead_letter_queue=None)  # fmt: skip
    return MessageBatch("jobs", got.messages, lambda _m: None)


async def test_each_content_type_round_trips(
    queue: QueueProducerBinding, store: QueueStore
) -> None:
    when = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    await queue.send({"n": 1, "tags": ["a"]})
    await queue.send("plain", contentType="text")
    await queue.send(b"\x00\x01", {"contentType": "bytes"})
    await queue.send({"raw": b"\xff", "at": when, "big": 2**60}, contentType="v8")
    bodies = [m.body for m in delivered(store).messages]
    assert bodies[0] == {"n": 1, "tags": ["a"]} and bodies[0].n == 1  # JS-style access too
    assert bodies[1:3] == ["plain", b"\x00\x01"]
    assert bodies[3] == {"raw": b"\xff", "at": when, "big": 2**60}


async def test_wrong_bodies_for_a_content_type(queue: QueueProducerBinding) -> None:
    with pytest.raises(
        TypeError, match='"text" requires a value of type string, but received: number'
    ):
        await queue.send(5, contentType="text")
    with pytest.raises(TypeError, match='"bytes" requires a value of type ArrayBufferView'):
        await queue.send("x", contentType="bytes")
    with pytest.raises(TypeError, match="Unsupported queue message content type: xml"):
        await queue.send("x", contentType="xml")
    with pytest.raises(TypeError, match="Message body cannot be undefined"):
        await queue.send()
    with pytest.raises(TypeError, match="DataCloneError"):
        await queue.send(object(), contentType="v8")


async def test_message_size_limit(queue: QueueProducerBinding, store: QueueStore) -> None:
    await queue.send("x" * 128_000, contentType="text")
    with pytest.raises(QueueSendError, match="128001 bytes exceeds limit of 128000"):
        await queue.send("x" * 128_001, contentType="text")
    assert len(delivered(store).messages) == 1


async def test_send_batch_limits(queue: QueueProducerBinding, store: QueueStore) -> None:
    with pytest.raises(TypeError, match="requires at least one message"):
        await queue.sendBatch([])
    with pytest.raises(QueueSendError, match="batch message count of 101 exceeds limit of 100"):
        await queue.sendBatch([{"body": i} for i in range(101)])
    with pytest.raises(QueueSendError, match=r"batch size of \d+ bytes exceeds limit of 288000"):
        await queue.sendBatch([{"body": "x" * 100_000, "contentType": "text"}] * 3)
    with pytest.raises(TypeError, match="Message body cannot be undefined"):
        await queue.sendBatch([{"contentType": "text"}])
    assert delivered(store).messages == []  # a rejected batch stores nothing
    await queue.sendBatch([{"body": i} for i in range(100)])
    assert [m.body for m in delivered(store).messages] == list(range(100))


async def test_delays(queue: QueueProducerBinding, store: QueueStore, clock: Clock) -> None:
    await queue.send("later", delaySeconds=30)
    await queue.sendBatch([{"body": "b1"}, {"body": "b2", "delaySeconds": 0}], delaySeconds=60)
    assert [m.body for m in delivered(store).messages] == ["b2"]
    clock.now = NOW + 60
    assert [m.body for m in delivered(store).messages] == ["later", "b1"]
    with pytest.raises(QueueSendError, match="must be between 0 and 86400"):
        await queue.send("x", delaySeconds=86_401)


async def test_producer_delivery_delay_is_the_default(store: QueueStore, clock: Clock) -> None:
    queue = QueueProducerBinding(store, "jobs", delivery_delay=5)
    await queue.send("a")
    await queue.send("b", delaySeconds=0)
    assert [m.body for m in delivered(store).messages] == ["b"]
    clock.now = NOW + 5
    assert [m.body for m in delivered(store).messages] == ["a"]


async def test_v8_is_the_default_for_older_compatibility_dates(store: QueueStore) -> None:
    queue = QueueProducerBinding(store, "jobs", default_content_type="v8")
    await queue.send({"raw": b"\x00"})  # bytes inside: only v8 can carry this
    (message,) = delivered(store).messages
    assert message.body == {"raw": b"\x00"}
