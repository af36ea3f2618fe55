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
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ray.actors import replica_nodes
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
    monkeypatch.setattr("wranglerpy.ray.primary.primary_actor", lambda: actor)
    monkeypatch.setattr("wranglerpy.ray.stores._ray_get", lambda future: future.result())
    return target


@pytest.fixture
def build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., WorkerReplica]]:
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
        replica.__del__()  # outside the loop: stops what still runs


async def until(
    check: Callable[[], Awaitable[Any]], what: str, tries: int = 2000, every: float = 0.01
) -> Any:
    """Poll ``check`` until it gives a truthy value (in-process, the loops run on this same
    event loop)."""
    for _ in range(tries):
        value = await check()
        if value:
            return value
        await asyncio.sleep(every)
    raise AssertionError(f"never happened: {what}")


async def stop(replica: WorkerReplica) -> None:
    """What Serve does when it stops a replica: await what ``__del__`` returns."""
    stopping = replica.__del__()
    assert stopping is not None
    await stopping


async def test_a_batch_sent_from_one_replica_is_delivered_to_another(
    primary: StatePrimary, build: Callable[..., WorkerReplica], tmp_path: Path
) -> None:
    """Batching (max_batch_size 2), a retried message and its move to the dead-letter queue
    after max_retries, all by the dev broker's rules over the primary's store."""
    producer = build("qw-producer", PRODUCER, PRODUCER_TOML)
    consumer = build("qw-consumer", CONSUMER, CONSUMER_TOML, node="node_b")
    assert [item.what for item in consumer.background] == ["queue consumers", "workflow engines"]
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


async def test_a_replica_placed_while_the_primary_is_away_consumes_once_it_is_back(
    primary: StatePrimary,
    build: Callable[..., WorkerReplica],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The primary restarting (its node died) when a consumer replica starts: the replica
    keeps trying, and consumes once the primary answers."""
    monkeypatch.setattr(background, "RETRY_SECONDS", 0.05)
    actor = StandInPrimary(primary)
    lookups: list[str] = []

    def find() -> Any:
        lookups.append("away")
        raise ValueError("Failed to look up actor with name 'wranglerpy-primary'")

    monkeypatch.setattr("wranglerpy.ray.primary.primary_actor", find)
    consumer = build("qw-consumer", CONSUMER, CONSUMER_TOML, node="node_b")
    (queues, _) = consumer.background

    async def tried_twice() -> bool:
        return len(lookups) >= 2

    await until(tried_twice, "the consumer tries again")
    assert not queues.running and not queues.task.done()
    monkeypatch.setattr("wranglerpy.ray.primary.primary_actor", lambda: actor)  # back
    producer = build("qw-producer", PRODUCER, PRODUCER_TOML)
    await producer.app.env.JOBS.sendBatch([{"body": "late"}, {"body": "later"}])
    db = producer.app.env.DB

    async def seen() -> list[list[Any]]:
        await db.exec(
            "CREATE TABLE IF NOT EXISTS seen (queue TEXT, body TEXT, attempts INTEGER, size INTEGER)"
        )
        rows: list[list[Any]] = await db.prepare("SELECT body FROM seen").raw()
        return rows if len(rows) == 2 else []

    await until(seen, "the replica consumes once the primary is back")
    assert len(queues.running) == 2  # jobs and jobs-dlq
    await stop(consumer)


async def test_two_replicas_of_the_consumer_share_the_queue_without_duplicates(
    primary: StatePrimary, build: Callable[..., WorkerReplica]
) -> None:
    """Two consumer replicas (two nodes) poll one queue: the primary's leases give each
    batch to one of them."""
    producer = build("qw-producer", PRODUCER, PRODUCER_TOML)
    replicas = [
        build("qw-consumer", CONSUMER, CONSUMER_TOML, node=node) for node in ("node_b", "node_c")
    ]
    bodies = [f"m{i}" for i in range(40)]
    for first in range(0, len(bodies), 10):
        await producer.app.env.JOBS.sendBatch([{"body": b} for b in bodies[first : first + 10]])
    db = producer.app.env.DB

    async def all_seen() -> list[list[Any]]:
        await db.exec(
            "CREATE TABLE IF NOT EXISTS seen (queue TEXT, body TEXT, attempts INTEGER, size INTEGER)"
        )
        rows: list[list[Any]] = await db.prepare("SELECT body, attempts FROM seen").raw()
        return rows if len(rows) >= len(bodies) else []

    await until(all_seen, "every message is delivered")
    for replica in replicas:
        await stop(replica)
    rows = await all_seen()  # read again once both stopped: nothing came twice meanwhile
    assert sorted(json.loads(body) for body, _ in rows) == sorted(bodies)
    assert {attempts for _, attempts in rows} == {1}


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
    started = [item for starting in first.background for item in starting.running]
    for item in started:  # node_b is lost: nothing it runs reaches the primary
        store_of = getattr(item, "engine", None) or item.loop
        store_of._store._actor = LostNode()
    for item in started:
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


async def test_a_stopping_replica_hands_its_instances_back(
    primary: StatePrimary, build: Callable[..., WorkerReplica], tmp_path: Path
) -> None:
    """A rollout stops old replicas through ``__del__``: the engine releases its lease at
    once, so a new replica need not wait for it to run out."""
    producer = build("qw-producer", PRODUCER, PRODUCER_TOML)
    consumer = build("qw-consumer", CONSUMER, CONSUMER_TOML, node="node_b")
    await producer.app.env.NAP.create(id="handed", params={"n": 1, "nap": "1 hour"})
    store = open_workflows(tmp_path / "primary")

    async def napping() -> bool:
        return any(s.name == "nap" for s in store.steps("nap", "handed"))

    await until(napping, "the instance sleeps")
    await stop(consumer)
    row = store.get("nap", "handed")
    assert row is not None and row.lease is None and row.status in ("running", "waiting")
    assert consumer.__del__() is None  # once stopped, nothing more to do


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


# --- on a real cluster: head (the primary), node_a (producer), node_b (consumer) ------------

PLACEMENT = """
[primary]
resources = { head = 1 }

[ingress]
resources = { head = 1 }

[workers.qw-producer]
resources = { node_a = 1 }

[workers.qw-consumer]
resources = { node_b = 1 }
"""
WORKER_HEAD = """name = "{name}"
main = "src/{name}.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]
"""


class Cluster:
    """The deployed project on a three-node cluster, driven through the real CLI."""

    def __init__(self, cluster: Any, project: Path, port: int) -> None:
        self.cluster = cluster
        self.project = project
        self.state = project / "ray-state"
        self.base = f"http://127.0.0.1:{port}"
        self.port = port

    def cli(self, *args: str) -> str:
        import subprocess
        import sys

        command = [sys.executable, "-m", "wranglerpy", *args, "--target", "ray"]
        command += ["--ray-address", self.cluster.address, "--state-dir", str(self.state)]
        done = subprocess.run(
            command, cwd=self.project, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    async def get(self, path: str, **params: str) -> Any:
        import httpx

        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.get(
                f"{self.base}{path}", params=params, headers={"host": "qw-producer.localhost"}
            )
        assert response.status_code == 200, response.text
        return response.json() if "json" in response.headers["content-type"] else response.text


@pytest.fixture(scope="module")
def on_cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import time

    ray = pytest.importorskip("ray")
    from wranglerpy.ray.local_cluster import LocalCluster

    project = tmp_path_factory.mktemp("ray-qw")
    (project / "src").mkdir()
    for name, source, toml in (
        ("qw-producer", PRODUCER, PRODUCER_TOML),
        ("qw-consumer", CONSUMER, CONSUMER_TOML),
    ):
        (project / "src" / f"{name}.py").write_text(source)
        (project / f"wrangler-{name}.toml").write_text(WORKER_HEAD.format(name=name) + toml)
    (project / "ray.toml").write_text(PLACEMENT)
    cluster = LocalCluster.create()
    started = time.perf_counter()
    try:
        cluster.start(("node_a", "node_b"))
        print(f"\n[ray] three nodes up in {time.perf_counter() - started:.1f} s")
        deployed = Cluster(cluster, project, cluster.http_port)  # the head's proxy
        out = deployed.cli(
            "deploy",
            "--all",
            "-c",
            "wrangler-qw-consumer.toml",
            "-c",
            "wrangler-qw-producer.toml",
            "--ray-http-port",
            str(deployed.port),
            "--ray-proxy",
            "EveryNode",  # each worker node's proxy has its own port (LocalCluster)
        )
        print(out)
        yield deployed
    finally:
        ray.shutdown()
        cluster.stop()
        import shutil

        shutil.rmtree(cluster.root, ignore_errors=True)


def node_id(name: str) -> str | None:
    """The id of the live node with custom resource ``name`` (None: none alive)."""
    import ray

    for node in ray.nodes():
        if node.get("Alive") and name in node["Resources"]:
            return str(node["NodeID"])
    return None


async def seen_on(deployed: Cluster, done: Callable[[list[Any]], bool]) -> list[Any]:
    async def check() -> list[Any]:
        rows: list[Any] = await deployed.get("/seen")
        return rows if done(rows) else []

    return await until(check, "the consumer recorded the messages", tries=1200, every=0.5)


@pytest.mark.ray
@pytest.mark.cluster
@pytest.mark.timeout(1200)
async def test_a_batch_sent_on_node_a_is_consumed_on_node_b(on_cluster: Cluster) -> None:
    nodes = replica_nodes()
    assert (nodes["qw-producer"], nodes["qw-consumer"], nodes["wranglerpy-primary"]) == (
        ["node_a"],
        ["node_b"],
        ["head"],
    )
    bodies = json.dumps(["a", "b", "c", "d", "bad"])
    assert await on_cluster.get("/send", bodies=bodies) == "sent"
    rows = await seen_on(on_cluster, lambda rows: any(r[0] == "jobs-dlq" for r in rows))
    assert sorted((q, json.loads(b), n, size) for q, b, n, size in rows) == [
        ("jobs", "a", 1, 2),
        ("jobs", "b", 1, 2),
        ("jobs", "bad", 1, 1),
        ("jobs", "bad", 2, 1),
        ("jobs", "c", 1, 2),
        ("jobs", "d", 1, 2),
        ("jobs-dlq", "bad", 1, 1),
    ]
    # In tail, each batch is a QUEUE event of the consumer (node_b) in the trace of the
    # request that sent its first message (node_a).
    from wranglerpy.ray.tail import tail_actor

    actor = tail_actor()
    since = 0
    traces: dict[str, set[tuple[str, str, str | None]]] = {}

    async def traced() -> bool:
        nonlocal since
        since, events = ray_get(actor.since.remote(since))
        for event in events:
            if event.get("type") == "request":
                key = (event["worker"], event["method"], event.get("path"))
                traces.setdefault(event["trace"], set()).add(key)
        return any(
            ("qw-producer", "GET", "/send") in keys and ("qw-consumer", "QUEUE", "jobs") in keys
            for keys in traces.values()
        )

    await until(traced, "the batch's tail event in the sender's trace", tries=200, every=0.2)


def ray_get(ref: Any) -> Any:
    import ray

    return ray.get(ref, timeout=60)


@pytest.mark.ray
@pytest.mark.cluster
@pytest.mark.timeout(1200)
async def test_a_workflow_sleeps_across_the_loss_of_its_node(on_cluster: Cluster) -> None:
    """node_b (the consumer, which runs the workflow) dies while the instance sleeps; a
    message and the event the instance will wait for, sent meanwhile from node_a, wait in the
    primary. A new node_b joins, Serve places the consumer again, its engine resumes the
    instance once the dead replica's lease ran out (from its last completed step: no step
    runs twice), and the waiting message is delivered once."""
    import time

    await on_cluster.get("/create", id="trip", n="20", nap="20 seconds")

    async def sleeping() -> bool:
        runs = await on_cluster.get("/runs")
        return bool(runs == ["first", "flaky", "flaky"])

    await until(sleeping, "the instance reached its sleep", tries=1200, every=0.5)
    old_id = node_id("node_b")
    node = on_cluster.cluster.node("node_b")
    killed = time.monotonic()
    node.kill()
    await asyncio.to_thread(node.process.wait)
    on_cluster.cluster.nodes.remove(node)

    async def gone() -> bool:
        return node_id("node_b") is None  # the cluster noticed: no live node_b

    await until(gone, "the cluster sees node_b dead", tries=1200, every=0.5)
    print(f"\n[ray] node_b seen dead {time.monotonic() - killed:.1f} s after the kill")
    # With no consumer replica anywhere, a message and the awaited event wait in the primary.
    down = "sent while node_b was down"
    assert await on_cluster.get("/send", bodies=json.dumps([down])) == "sent"
    await on_cluster.get("/event", id="trip", by="node_a")
    assert all(json.loads(r[1]) != down for r in await on_cluster.get("/seen"))
    assert (await on_cluster.get("/status", id="trip"))["status"] != "complete"
    await asyncio.to_thread(on_cluster.cluster.join, "node_b", 3)  # as an orchestrator would
    print(f"[ray] a new node_b joined {time.monotonic() - killed:.1f} s after the kill")

    async def complete() -> bool:
        status = await on_cluster.get("/status", id="trip")
        return bool(status["status"] == "complete")

    await until(complete, "the instance completes on the new node_b", tries=1200, every=0.5)
    print(f"[ray] the instance completed {time.monotonic() - killed:.1f} s after the kill")
    assert replica_nodes()["qw-consumer"] == ["node_b"]
    assert node_id("node_b") not in (None, old_id)
    status = await on_cluster.get("/status", id="trip")
    assert status["output"] == {"value": 42, "flaky": "steady", "by": "node_a"}
    assert await on_cluster.get("/runs") == ["first", "flaky", "flaky", "last"]
    rows = await seen_on(on_cluster, lambda rows: any(json.loads(r[1]) == down for r in rows))
    assert [r[2] for r in rows if json.loads(r[1]) == down] == [1]  # delivered once
