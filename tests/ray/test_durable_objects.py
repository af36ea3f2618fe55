"""Durable Objects on a real three-node Ray cluster on 127.0.0.1 (``pytest -m ray``).

A head (the primary that keeps every object's storage), ``node_a`` (the ``lobby`` worker)
and ``node_b`` (the ``rooms`` worker that defines the class): each node is one
``ray start --block`` in its own process group, stopped by its pid (never ``ray stop``).
Objects are reached from both workers (``lobby`` binds the class with ``script_name``) and
from this driver (on the head). ``node_b`` is then killed under a bounded loop of calls: the
next calls reach the object restarted on another node, with its storage. Timings and
counts are printed for the report, never asserted.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from tests.ray.actors import live_actors  # noqa: E402
from tests.waits import await_until  # noqa: E402
from wranglerpy.bindings.durable_objects.ids import IdFactory, unique_key  # noqa: E402
from wranglerpy.bindings.durable_objects.routing import (  # noqa: E402
    ObjectAddress,
    decode_result,
    encode_call,
)
from wranglerpy.ray.local_cluster import LocalCluster, free_port  # noqa: E402
from wranglerpy.ray.objects import OBJECT_PREFIX, RayRouter  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.timeout(1200)]

WORKER = """
import time
from urllib.parse import parse_qs, urlsplit

from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    async def increment(self, by=1):
        value = (self.ctx.storage.kv.get("n") or 0) + by
        self.ctx.storage.kv.put("n", value)
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (v INTEGER)")
        self.ctx.storage.sql.exec("INSERT INTO log VALUES (?)", value)
        return value

    async def read(self):
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (v INTEGER)")
        logged = self.ctx.storage.sql.exec("SELECT count(*) AS c FROM log").one()["c"]
        return {
            "n": self.ctx.storage.kv.get("n"),
            "log": logged,
            "alarmed": self.ctx.storage.kv.get("alarmed"),
        }

    async def arm(self, in_ms):
        await self.ctx.storage.setAlarm(time.time() * 1000 + in_ms)

    async def alarm(self, info=None):
        self.ctx.storage.kv.put("alarmed", True)

    async def fetch(self, request):
        return Response("n=" + str(self.ctx.storage.kv.get("n")))


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        query = parse_qs(url.query)
        stub = self.env.ROOMS.getByName(query["name"][0])
        if url.path == "/inc":
            return Response(str(await stub.increment(int(query.get("by", ["1"])[0]))))
        if url.path == "/arm":
            await stub.arm(int(query["in_ms"][0]))
            return Response("armed")
        if url.path == "/fetch":
            return await stub.fetch("https://object/")
        return Response.json(await stub.read())
"""
ROOMS = """name = "rooms"
main = "src/worker.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""
LOBBY = """name = "lobby"
main = "src/worker.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Counter"
script_name = "rooms"
"""
PLACEMENT = """
[primary]
resources = { head = 1 }

[workers.rooms]
resources = { node_b = 1 }

[workers.lobby]
resources = { node_a = 1 }
"""


class Deployed:
    def __init__(self, cluster: LocalCluster, project: Path, port: int, state: Path) -> None:
        self.cluster = cluster
        self.state = state
        self.project = project
        self.base = f"http://127.0.0.1:{port}"
        self.router = RayRouter()  # this driver's calls, as a worker's stub makes them

    async def get(self, worker: str, path: str) -> Any:
        import httpx

        async with httpx.AsyncClient(timeout=120) as client:
            response = await client.get(self.base + path, headers={"host": f"{worker}.localhost"})
        assert response.status_code == 200, response.text
        return response

    async def rpc(self, name: str, method: str, *args: Any) -> Any:
        object_id = IdFactory(unique_key("rooms", "Counter")).from_name(name).toString()
        address = ObjectAddress("rooms", "Counter", object_id, name)
        reply = await self.router.send("rooms", address, encode_call(method, list(args), {}))
        return decode_result(reply)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("ray-do")
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "worker.py").write_text(WORKER)
    (project / "wrangler-rooms.toml").write_text(ROOMS)
    (project / "wrangler-lobby.toml").write_text(LOBBY)
    (project / "ray.toml").write_text(PLACEMENT)
    cluster = LocalCluster.create()
    try:
        started = time.perf_counter()
        cluster.start(("node_a", "node_b"))
        print(f"\n[ray-do] three nodes up in {time.perf_counter() - started:.1f} s")
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "wranglerpy",
            "deploy",
            "--all",
            "-c",
            "wrangler-rooms.toml",
            "-c",
            "wrangler-lobby.toml",
            "--target",
            "ray",
            "--ray-address",
            cluster.address,
            "--state-dir",
            str(root / "ray-state"),
            "--ray-http-port",
            str(port),
            "--ray-proxy",
            "HeadOnly",  # one machine: every node's proxy would want this port
        ]
        done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        yield Deployed(cluster, project, port, root / "ray-state")
    finally:
        ray.shutdown()
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def object_nodes() -> dict[str, list[str]]:
    """Object actor name -> the node (its custom resource) of each live instance."""
    found: dict[str, list[str]] = {}
    for actor, node in live_actors():
        name = actor.get("Name") or ""
        if name.startswith(OBJECT_PREFIX):
            found.setdefault(name, []).append(node)
    return found


def nodes_of(name: str) -> list[str]:
    object_id = IdFactory(unique_key("rooms", "Counter")).from_name(name).toString()
    return [node for actor, nodes in object_nodes().items() if object_id in actor for node in nodes]


async def test_callers_on_two_nodes_and_the_driver_reach_one_instance(deployed: Deployed) -> None:
    """rooms (node_b) and lobby (node_a, through ``script_name``) increment one object at
    once, and this driver reads it: one instance, every increment counted once."""
    calls = [deployed.get("rooms", "/inc?name=shared") for _ in range(6)]
    calls += [deployed.get("lobby", "/inc?name=shared") for _ in range(6)]
    answers = sorted(int(r.text) for r in await asyncio.gather(*calls))
    assert answers == list(range(1, 13))
    assert await deployed.rpc("shared", "read") == {"n": 12, "log": 12, "alarmed": None}
    assert len(nodes_of("shared")) == 1
    fetched = await deployed.get("lobby", "/fetch?name=shared")
    assert fetched.text == "n=12"


async def test_an_alarm_runs_in_the_objects_actor(deployed: Deployed) -> None:
    await deployed.get("rooms", "/arm?name=alarmed&in_ms=300")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (await deployed.rpc("alarmed", "read"))["alarmed"]:
            break
        await asyncio.sleep(0.2)
    assert (await deployed.rpc("alarmed", "read"))["alarmed"] is True


async def test_rpc_latency_from_the_driver(deployed: Deployed) -> None:
    """Printed for the report (bench/ray_bench.py measures the same beside dev)."""
    await deployed.rpc("latency", "read")
    took = []
    for _ in range(100):
        started = time.perf_counter()
        await deployed.rpc("latency", "read")
        took.append((time.perf_counter() - started) * 1000)
    print(f"\n[ray-do] driver -> object RPC p50 {statistics.median(took):.2f} ms")


def actors_of(name: str) -> list[str]:
    object_id = IdFactory(unique_key("rooms", "Counter")).from_name(name).toString()
    return [actor for actor in object_nodes() if object_id in actor]


async def test_a_new_version_takes_the_object_over_with_its_storage(deployed: Deployed) -> None:
    """A deploy of rooms: the object's next call starts the new version's instance, which
    stops the old one; the storage carries over."""
    assert (await deployed.get("rooms", "/inc?name=versioned")).text == "1"
    (old,) = actors_of("versioned")
    source = deployed.project / "src" / "worker.py"
    source.write_text(source.read_text() + "\n# version 2\n")
    command = [
        sys.executable,
        "-m",
        "wranglerpy",
        "deploy",
        "-c",
        "wrangler-rooms.toml",
        "--target",
        "ray",
        "--ray-address",
        deployed.cluster.address,
        "--state-dir",
        str(deployed.state),
    ]
    done = subprocess.run(
        command, cwd=deployed.project, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (await deployed.get("rooms", "/inc?name=versioned")).text == "2"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and old in actors_of("versioned"):
        await asyncio.sleep(0.2)  # Ray reports the stopped actor a moment later
    (new,) = actors_of("versioned")
    assert new != old


async def test_storage_survives_the_loss_of_the_objects_node(deployed: Deployed) -> None:
    """Written through rooms on node_b, in an object that lives on node_b (objects start
    beside their first caller when that node has room: a few names are tried), node_b's
    process group killed by pid: the next calls reach the object restarted on another node,
    with its storage. Failed calls are counted and the recovery time measured, not
    asserted."""
    name = ""
    for attempt in range(12):
        name = f"survivor-{attempt}"
        for _ in range(5):
            await deployed.get("rooms", f"/inc?name={name}")
        if nodes_of(name) == ["node_b"]:
            break
    assert nodes_of(name) == ["node_b"], object_nodes()
    written = await deployed.rpc(name, "read")
    assert written == {"n": 5, "log": 5, "alarmed": None}

    results: dict[str, Any] = {"ok": [], "failed": []}
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            try:
                seen = await asyncio.wait_for(deployed.rpc(name, "read"), 60)
                assert seen == written
                results["ok"].append(time.monotonic())
            except Exception as exc:  # noqa: BLE001 - counted: a failed call
                results["failed"].append((time.monotonic(), type(exc).__name__, str(exc)[:80]))
                await asyncio.sleep(0.2)

    task = asyncio.ensure_future(loop())
    await await_until(lambda: len(results["ok"]) >= 3, "three answers before the kill")
    node = deployed.cluster.node("node_b")
    killed = time.monotonic()
    node.kill()
    await asyncio.to_thread(node.process.wait)
    deployed.cluster.nodes.remove(node)
    deadline = killed + 300
    while time.monotonic() < deadline:  # bounded: by time, or 5 good answers after the kill
        if len([t for t in results["ok"] if t > killed]) >= 5:
            break
        await asyncio.sleep(0.2)
    stop.set()
    await task
    after = [t for t in results["ok"] if t > killed]
    failures = [f for f in results["failed"] if f[0] > killed]
    last_failure = max((f[0] for f in failures), default=killed)
    recovered = min((t for t in after if t > last_failure), default=None)
    kinds = sorted({f"{f[1]}: {f[2]}" for f in failures})
    print(
        f"\n[ray-do] node_b killed: {len(failures)} failed / {len(after)} ok calls after the "
        f"kill; first success after the last failure "
        + (f"{recovered - killed:.1f} s after the kill" if recovered else "never")
        + f"; failures: {kinds}"
    )
    assert recovered is not None
    assert await deployed.rpc(name, "read") == written  # nothing acknowledged was lost
    assert await deployed.rpc(name, "increment") == 6
    assert nodes_of(name) and "node_b" not in nodes_of(name)
