"""Queues and Workflows on the Ray target.

In this process: real worker replicas (``WorkerReplica``) whose queue and workflow stores are
the single primary's (its class run here, behind a stand-in actor handle), so one replica
sends and another consumes, and an instance left by a dead replica is resumed by another.
On a real three-node cluster (``pytest -m ray``): the same workers, the producer on node_a and
the consumer on node_b, and a workflow that sleeps across the loss of node_b.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.bindings.queues import open_store as open_queues
from wranglerpy.bindings.workflows import open_store as open_workflows
from wranglerpy.ray import background
from wranglerpy.ray.primary import StatePrimary
from wranglerpy.ray.replica import WorkerReplica
from wranglerpy.ray.stores import QUEUES, WORKFLOWS, RemoteStore, UnknownStoreCall

from .conftest import make_replica
from .qw_workers import CONSUMER, CONSUMER_TOML, PRODUCER, PRODUCER_TOML


class StandInPrimary:
    """``actor.method.remote(...)`` gives a finished future, as a Ray reference resolves:
    D1's calls await it, the store calls resolve it."""

    def __init__(self, target: StatePrimary) -> None:
        self.target = target

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.target, name)

        class Remote:
            def remote(_, *args: Any) -> Any:
                result = method(*args)
                if asyncio.iscoroutine(result):
                    return asyncio.ensure_future(result)
                future = asyncio.get_running_loop().create_future()
                future.set_result(result)
                return future

        return Remote()


class LostNode:
    """A primary out of reach, as from a node that died: every call fails."""

    def __getattr__(self, name: str) -> Any:
        class Remote:
            def remote(_, *args: Any) -> Any:
                raise ConnectionError("the node is gone")

        return Remote()


@pytest.fixture
def primary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StatePrimary:
    target = StatePrimary(str(tmp_path / "primary"))
    actor = StandInPrimary(target)
    monkeypatch.setattr("wranglerpy.ray.primary._primary", lambda: actor)
    monkeypatch.setattr("wranglerpy.ray.stores._ray_get", lambda future: future.result())
    return target


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., WorkerReplica]:
    """A replica of ``name`` as a Ray worker process builds it: on the running loop, its
    folder as the working directory; ``node`` keeps two replicas of one worker apart."""
    made: list[WorkerReplica] = []

    def make(name: str, source: str, toml: str, node: str = "node_a") -> WorkerReplica:
        base = tmp_path / node
        base.mkdir(exist_ok=True)
        folder, spec = make_replica(base, source, toml, name=name)
        monkeypatch.chdir(folder)
        replica = WorkerReplica(spec, str(folder), {}, capture_output=False)
        made.append(replica)
        return replica

    yield make
    for replica in made:
        for item in replica.background:
            item.stop()


async def until(check: Callable[[], Awaitable[Any]], what: str, tries: int = 2000) -> Any:
    """Poll ``check`` until it gives a truthy value (the loops run on this same event loop)."""
    for _ in range(tries):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def stop(replica: WorkerReplica) -> None:
    for item in replica.background:
        item.stop()
    await asyncio.gather(*(item.task for item in replica.background), return_exceptions=True)


async def test_a_batch_sent_from_one_replica_is_delivered_to_another(
    primary: StatePrimary, build: Callable[..., WorkerReplica], tmp_path: Path
) -> None:
    """Batching (max_batch_size 2), a retried message and its move to the dead-letter queue
    after max_retries, all by the dev broker's rules over the primary's store."""
    producer = build("qw-producer", PRODUCER, PRODUCER_TOML)
    consumer = build("qw-consumer", CONSUMER, CONSUMER_TOML, node="node_b")
    assert len(consumer.background) == 3  # two consumers and the workflow engine
    jobs = producer.app.env.JOBS
    await jobs.sendBatch([{"body": body} for body in ("a", "b", "c", "d")])
    await jobs.send("bad")
    db = producer.app.env.DB

    async def seen() -> list[list[Any]]:
        await db.exec(
            "CREATE TABLE IF NOT EXISTS seen (queue TEXT, body TEXT, attempts INTEGER, size INTEGER)"
        )
        rows: list[list[Any]] = await db.prepare(
            "SELECT queue, body, attempts, size FROM seen ORDER BY rowid"
        ).raw()
        return rows if any(r[0] == "jobs-dlq" for r in rows) else []

    rows = await until(seen, "the bad message reaches the dead-letter queue")
    await stop(consumer)
    # Batches run concurrently: their rows interleave.
    assert sorted((q, json.loads(b), n, size) for q, b, n, size in rows) == [
        ("jobs", "a", 1, 2),
        ("jobs", "b", 1, 2),
        ("jobs", "bad", 1, 1),
        ("jobs", "bad", 2, 1),
        ("jobs", "c", 1, 2),
        ("jobs", "d", 1, 2),
        ("jobs-dlq", "bad", 1, 1),
    ]
    # The queues live in the primary's file; the replicas' own persist dirs hold nothing.
    info = {q.name: q for q in open_queues(tmp_path / "primary").queues()}
    assert info["jobs"].consumers == ("qw-consumer",)
    assert (info["jobs"].ready, info["jobs"].in_flight, info["jobs-dlq"].ready) == (0, 0, 0)
    for node in ("node_a", "node_b"):
        assert open_queues(tmp_path / node / "state").queues() == []


async def test_a_delayed_message_waits_in_the_primary(
    primary: StatePrimary, build: Callable[..., WorkerReplica], tmp_path: Path
) -> None:
    producer = build("qw-producer", PRODUCER, PRODUCER_TOML)
    await producer.app.env.JOBS.send("later", delaySeconds=600)
    (info,) = open_queues(tmp_path / "primary").queues()
    assert (info.name, info.delayed, info.ready) == ("jobs", 1, 0)


async def test_an_instance_left_by_a_dead_replica_resumes_on_another(
    primary: StatePrimary,
    build: Callable[..., WorkerReplica],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first replica dies while the instance sleeps (its calls stop reaching the primary,
    its lease is never released); once the lease ran out, a replica elsewhere claims the
    instance and replays it: completed steps are not run again, the sleep ends on time, the
    event sent from the producer is received, the retried step's attempts are kept."""
    monkeypatch.setattr(background, "LEASE_SECONDS", 1.0)
    producer = build("qw-producer", PRODUCER, PRODUCER_TOML)
    first = build("qw-consumer", CONSUMER, CONSUMER_TOML, node="node_b")
    await producer.app.env.NAP.create(id="trip", params={"n": 20, "nap": "1 second"})
    store = open_workflows(tmp_path / "primary")

    async def napping() -> bool:
        return any(s.name == "nap" for s in store.steps("nap", "trip"))

    await until(napping, "the instance sleeps")
    for item in first.background:  # node_b is lost: nothing it runs reaches the primary
        store_of = getattr(item, "engine", None) or item.loop
        store_of._store._actor = LostNode()
    for item in first.background:
        for task in [t for _, t in getattr(getattr(item, "engine", None), "_running", {}).values()]:
            task.cancel()
        item.task.cancel()
    await asyncio.gather(*(item.task for item in first.background), return_exceptions=True)
    first.background = []
    row = store.get("nap", "trip")
    assert row is not None and row.lease is not None  # still held by the dead replica

    build("qw-consumer", CONSUMER, CONSUMER_TOML, node="node_c")
    instance = await producer.app.env.NAP.get("trip")

    async def status_is(wanted: str) -> bool:
        return (await instance.status())["status"] == wanted

    await until(lambda: status_is("waiting"), "the resumed instance waits for its event")
    await instance.send_event(type="approve", payload={"by": "tester"})
    await until(lambda: status_is("complete"), "the instance completes")
    status = await instance.status()
    assert status["output"] == {"value": 42, "flaky": "steady", "by": "tester"}
    db = producer.app.env.DB
    runs = [r[0] for r in await db.prepare("SELECT step FROM runs ORDER BY rowid").raw()]
    assert runs == ["first", "flaky", "flaky", "last"]  # nothing completed ran twice
    flaky = next(s for s in store.steps("nap", "trip") if s.name == "flaky")
    assert (flaky.state, flaky.attempts) == ("done", 2)


async def test_the_primary_runs_only_the_store_calls_a_replica_may_make(
    primary: StatePrimary,
) -> None:
    store = RemoteStore(QUEUES)
    with pytest.raises(UnknownStoreCall, match="no call 'sqlite'"):
        store.sqlite  # noqa: B018 - the attribute itself is refused
    with pytest.raises(UnknownStoreCall, match="no call 'close'"):
        primary.store_call(QUEUES, "close", (), {})
    with pytest.raises(UnknownStoreCall, match="no 'kv' store"):
        primary.store_call("kv", "get", (), {})
    assert RemoteStore(WORKFLOWS).get("nap", "nobody") is None
