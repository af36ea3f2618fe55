"""The queue store's transactions: leasing by size and by timeout, settling, dead letters,
orphaned leases. Batch rules follow workers-sdk
packages/miniflare/src/workers/queues/broker.worker.ts (``#ensurePendingFlush``, ``#flush``)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bindings.conftest import NOW, Clock
from wranglerpy.bindings.queues.store import NewMessage, QueueStore


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[QueueStore]:
    s = QueueStore(tmp_path / "q.sqlite", clock=clock, alive=lambda pid: pid in ALIVE)
    yield s
    s.close()


ALIVE: set[int] = set()


def put(store: QueueStore, queue: str, *ids: str, delay: float = 0.0) -> None:
    store.enqueue(queue, [NewMessage(i, int(NOW * 1000), "text", i.encode(), delay) for i in ids])


def lease(store: QueueStore, queue: str = "q", **kw: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {
        "max_batch": 3,
        "batch_timeout": 5.0,
        "max_attempts": 2,
        "dead_letter_queue": None,
        "lease_seconds": 30.0,
        "pid": 4242,
    }
    options.update(kw)
    return store.lease(queue, **options)  # type: ignore[arg-type]


def test_a_full_batch_goes_at_once(store: QueueStore) -> None:
    put(store, "q", "a", "b", "c", "d")
    got = lease(store)
    assert [m.id for m in got.messages] == ["a", "b", "c"]
    assert [m.attempts for m in got.messages] == [1, 1, 1]


def test_a_partial_batch_waits_for_the_timeout(store: QueueStore, clock: Clock) -> None:
    put(store, "q", "a")
    early = lease(store)
    assert early.messages == [] and early.next_due == NOW + 5.0
    clock.now = NOW + 5.0
    assert [m.id for m in lease(store).messages] == ["a"]


def test_delayed_messages_are_invisible_until_due(store: QueueStore, clock: Clock) -> None:
    put(store, "q", "a", delay=10)
    assert lease(store, batch_timeout=0).messages == []
    clock.now = NOW + 10
    assert [m.id for m in lease(store, batch_timeout=0).messages] == ["a"]


def test_settle_deletes_acks_and_delays_retries(store: QueueStore, clock: Clock) -> None:
    put(store, "q", "a", "b")
    got = lease(store, batch_timeout=0)
    done = store.settle(
        got.id, acked={"a"}, retried={"b": 7.0}, max_attempts=2, dead_letter_queue=None
    )
    assert (done.acked, done.retried) == (1, 1)
    assert lease(store, batch_timeout=0).messages == []
    clock.now = NOW + 7
    again = lease(store, batch_timeout=0).messages
    assert [(m.id, m.attempts) for m in again] == [("b", 2)]


def test_out_of_attempts_goes_to_the_dead_letter_queue(store: QueueStore) -> None:
    put(store, "q", "a")
    for _ in range(2):
        got = lease(store, batch_timeout=0, dead_letter_queue="dlq")
        done = store.settle(
            got.id, acked=set(), retried={"a": 0}, max_attempts=2, dead_letter_queue="dlq"
        )
    assert done.dead_lettered == [("a", "dlq")]
    moved = lease(store, "dlq", batch_timeout=0).messages
    assert [(m.id, m.body, m.attempts) for m in moved] == [("a", b"a", 1)]


def test_without_a_dead_letter_queue_spent_messages_are_dropped(store: QueueStore) -> None:
    put(store, "q", "a")
    got = lease(store, batch_timeout=0, max_attempts=1)
    done = store.settle(
        got.id, acked=set(), retried={"a": 0}, max_attempts=1, dead_letter_queue=None
    )
    assert done.dead_lettered == [("a", None)]
    assert store.peek("q") == []


def test_a_dead_holders_lease_is_released(store: QueueStore, clock: Clock) -> None:
    put(store, "q", "a")
    ALIVE.add(999)
    assert lease(store, batch_timeout=0, pid=999).messages
    clock.now += 1  # the sweep runs at most twice a second
    assert lease(store, batch_timeout=0).messages == []  # still held by a live process
    ALIVE.discard(999)
    clock.now += 1
    again = lease(store, batch_timeout=0).messages
    assert [(m.id, m.attempts) for m in again] == [("a", 2)]


def test_an_expired_lease_is_released(store: QueueStore, clock: Clock) -> None:
    put(store, "q", "a")
    ALIVE.add(998)
    assert lease(store, batch_timeout=0, pid=998, lease_seconds=10).messages
    clock.now = NOW + 10
    assert [m.id for m in lease(store, batch_timeout=0).messages] == ["a"]
    ALIVE.discard(998)


def test_redelivery_past_max_attempts_dead_letters_instead(store: QueueStore, clock: Clock) -> None:
    put(store, "q", "a")
    assert lease(store, batch_timeout=0, max_attempts=1, lease_seconds=1).messages
    clock.now = NOW + 2  # the holder never settled (killed)
    again = lease(store, batch_timeout=0, max_attempts=1, dead_letter_queue="dlq")
    assert again.messages == [] and again.dead_lettered == [("a", "dlq")]


def test_max_concurrency_limits_leases_across_holders(store: QueueStore) -> None:
    put(store, "q", "a", "b")
    assert lease(store, max_batch=1, max_concurrency=1).messages
    assert lease(store, max_batch=1, max_concurrency=1).messages == []
    assert lease(store, max_batch=1, max_concurrency=2).messages


def test_queue_admin(store: QueueStore) -> None:
    assert store.create_queue("jobs") is True
    assert store.create_queue("jobs") is False
    put(store, "jobs", "a", "b")
    store.register("jobs", "api", "producer")
    (info,) = store.queues()
    assert (info.name, info.ready, info.producers) == ("jobs", 2, ("api",))
    assert [m.id for m, state in store.peek("jobs")] == ["a", "b"]
    assert store.purge("jobs") == 2
    assert store.delete_queue("jobs") is True
    assert store.queues() == []


def test_a_message_keeps_its_senders_traceparent_also_in_an_older_store(
    tmp_path: Path, clock: Clock
) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:  # the messages table as wranglerpy made it before
        old.execute(
            "CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,"
            " id TEXT NOT NULL, sent_ms INTEGER NOT NULL, content_type TEXT NOT NULL,"
            " body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, visible_at REAL NOT NULL,"
            " lease TEXT, lease_until REAL, lease_pid INTEGER)"
        )
        old.execute(
            "INSERT INTO messages (queue, id, sent_ms, content_type, body, visible_at)"
            " VALUES ('q', 'before', 0, 'text', x'00', 0)"
        )
    old.close()
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    store = QueueStore(path, clock=clock)
    try:
        store.enqueue("q", [NewMessage("after", 0, "text", b"x", trace=traceparent)])
        leased = lease(store, max_batch=2)
    finally:
        store.close()
    assert [(m.id, m.trace) for m in leased.messages] == [("before", ""), ("after", traceparent)]
