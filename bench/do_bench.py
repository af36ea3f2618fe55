"""Durable Objects speed and memory.

In process (the object host, no HTTP): storage ``get``/``put`` through the async API inside
the object, the synchronous ``ctx.storage.kv`` get/put, and stub RPC round trips (the stub
and the object in one process). Under ``wranglerpy dev`` with Cloudflare's chatroom example
(tests/bindings/durable_objects/fixtures/15-chatroom, hibernatable sockets): the worker
process's memory with 1,000 connected sockets after the room object hibernated, and the time
from one client's message until all 1,000 clients have the broadcast (received by light
clients, ws_receivers.py, so the bench's own client work does not dominate the figure).

    .venv/bin/python bench/do_bench.py        # SOCKETS=1000 OPS=20000 RUNS=3 BROADCASTS=15
    .venv/bin/python bench/do_bench.py --json --only=sockets   # in_process, rpc, sockets, edge_sockets

Beside wall times, CPU figures (sync kv per op, the server's CPU per broadcast) show what
the product costs when other jobs share the cores.

Goals (issue 12): sync kv get/put < 20 us; RPC p50 < 0.5 ms; 1,000 hibernated sockets < 100 MB;
broadcast to 1,000 < 50 ms. Figures are medians of RUNS (of BROADCASTS for the broadcast).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ws_receivers  # noqa: E402

from wranglerpy.bindings.durable_objects.host import ObjectHost  # noqa: E402
from wranglerpy.bindings.durable_objects.namespace import DurableObjectNamespace  # noqa: E402
from wranglerpy.runtime.entrypoint import DurableObject  # noqa: E402

OPS = int(os.environ.get("OPS", "20000"))
RUNS = int(os.environ.get("RUNS", "3"))
BROADCASTS = int(os.environ.get("BROADCASTS", "15"))  # one broadcast is short: take more
SOCKETS = int(os.environ.get("SOCKETS", "1000"))
CHATROOM = ROOT / "tests" / "bindings" / "durable_objects" / "fixtures" / "15-chatroom"


class Bench(DurableObject):
    async def async_put_get(self, n: int) -> list[float]:
        storage = self.ctx.storage
        start = time.perf_counter()
        for i in range(n):
            await storage.put(f"k{i % 500}", {"n": i, "text": "hello"})
        middle = time.perf_counter()
        for i in range(n):
            await storage.get(f"k{i % 500}")
        end = time.perf_counter()
        return [(middle - start) / n * 1e6, (end - middle) / n * 1e6]

    def sync_put_get(self, n: int) -> list[float]:
        kv = self.ctx.storage.kv
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(n):
            kv.put(f"s{i % 500}", {"n": i, "text": "hello"})
        middle, cpu_middle = time.perf_counter(), time.process_time()
        for i in range(n):
            kv.get(f"s{i % 500}")
        end, cpu_end = time.perf_counter(), time.process_time()
        return [
            (middle - start) / n * 1e6,
            (end - middle) / n * 1e6,
            (cpu_middle - cpu_start) / n * 1e6,
            (cpu_end - cpu_middle) / n * 1e6,
        ]

    async def ping(self, value: int) -> int:
        return value + 1


async def in_process() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        host = ObjectHost("bench", Path(folder), {"Bench": True})
        module = types.ModuleType("bench")
        module.Bench = Bench  # type: ignore[attr-defined]
        host.bind_module(module)
        stub = DurableObjectNamespace("B", "Bench", host).getByName("one")
        async_runs = [await stub.async_put_get(OPS) for _ in range(RUNS)]
        sync_runs = [await stub.sync_put_get(OPS) for _ in range(RUNS)]
        latencies = []
        for i in range(min(OPS, 5000)):
            start = time.perf_counter()
            await stub.ping(i)
            latencies.append((time.perf_counter() - start) * 1000)
        await host.stop()
    latencies.sort()
    return {
        "async_put_us": statistics.median(r[0] for r in async_runs),
        "async_get_us": statistics.median(r[1] for r in async_runs),
        "sync_kv_put_us": statistics.median(r[0] for r in sync_runs),
        "sync_kv_get_us": statistics.median(r[1] for r in sync_runs),
        # The same in CPU time: what the product costs when other processes share the cores.
        "sync_kv_put_cpu_us": statistics.median(r[2] for r in sync_runs),
        "sync_kv_get_cpu_us": statistics.median(r[3] for r in sync_runs),
        "rpc_in_process_p50_ms": latencies[len(latencies) // 2],
        "rpc_in_process_p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_ms(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def owner_pid(registry_dir: Path, namespace: str) -> int:
    """The process that owns the namespace (and so holds its objects and sockets)."""
    record = registry_dir / "durable-objects" / "dev" / f"{namespace}.json"
    return int(json.loads(record.read_text())["pid"])


async def sockets_under_dev() -> dict[str, Any]:
    import websockets

    from wranglerpy.testing.dev_server import DevServer

    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory() as state,
        DevServer(
            CHATROOM / "wrangler.jsonc",
            cwd=CHATROOM,
            persist_to=state,
            watch=False,
            environ={"WRANGLERPY_DO_IDLE_TIMEOUT": "1"},
            extra_args=["--log-level", "debug"],
        ) as dev,
    ):
        url = dev.url().replace("http://", "ws://") + "/room/bench"
        warm = await websockets.connect(url)
        await warm.recv()
        pid = owner_pid(dev.registry_dir, "python-chatroom-Chatroom")
        before = rss_mb(pid)
        evictions = dev.output().count("evicted (idle)")
        # Light clients (see ws_receivers.py): the timing is the server's and the network's,
        # not the cost of 1,000 full client libraries sharing the bench's one process.
        clients = []
        for _ in range(SOCKETS):
            receiver = await ws_receivers.connect(url)
            tally = ws_receivers.Tally(1)
            receiver.expect(1, tally)
            await tally.done  # the welcome message
            clients.append(receiver)
        deadline = time.monotonic() + 30
        while dev.output().count("evicted (idle)") == evictions and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        results["hibernated"] = dev.output().count("evicted (idle)") > evictions
        results["rss_before_mb"] = before
        results["rss_1000_hibernated_mb"] = rss_mb(pid)
        results["rss_per_socket_kb"] = (results["rss_1000_hibernated_mb"] - before) * 1024 / SOCKETS
        results.update(await broadcasts(warm, clients, [pid]))
        await warm.close()
        await asyncio.gather(*(client.close() for client in clients))
    return results


async def broadcasts(warm: Any, clients: list[Any], pids: list[int]) -> dict[str, Any]:
    """BROADCASTS messages from ``warm`` to the room: the time until all ``clients`` have
    each, and the CPU of ``pids`` (the server's processes) per broadcast."""
    results: dict[str, Any] = {}
    for client in clients:
        client.messages()  # the welcomes
    times, firsts = [], []
    cpu_before = [cpu_ms(pid) for pid in pids]
    for run in range(BROADCASTS):
        text = json.dumps({"username": "bench", "text": f"run {run}"})
        tally = ws_receivers.Tally(len(clients))
        for client in clients:
            client.expect_one_more(tally)
        start = time.perf_counter()
        await warm.send(text)
        end = await asyncio.wait_for(tally.done, 60)
        assert tally.first is not None
        times.append((end - start) * 1000)
        firsts.append((tally.first - start) * 1000)
        await warm.recv()
        for client in clients:  # every client got this run's message, intact
            (got,) = client.messages()
            assert json.loads(got)["text"] == f"run {run}", got
    # The server's CPU per broadcast (each run's own receive, handler, 1,000 writes): what the
    # broadcast costs the server, whatever else shares the cores.
    cpu = [
        (cpu_ms(pid) - before) / BROADCASTS for pid, before in zip(pids, cpu_before, strict=True)
    ]
    results["broadcast_server_cpu_ms"] = sum(cpu)
    results["broadcast_cpu_by_process_ms"] = [round(c, 2) for c in cpu]
    results["broadcast_ms"] = statistics.median(times)
    results["broadcast_first_ms"] = statistics.median(firsts)
    results["broadcast_runs_ms"] = [round(t, 1) for t in times]
    return results


async def sockets_under_edge() -> dict[str, Any]:
    """The broadcast of ``sockets_under_dev`` through the local edge: the router (its own
    process, one wsproto connection per client) relays each socket to the worker process,
    which writes every message as a DATA frame on the router's call (runtime/websocket_wire)."""
    import shutil

    import websockets
    from typer.testing import CliRunner

    from wranglerpy.cli.main import app
    from wranglerpy.deploy.client import running_edge, stop_edge
    from wranglerpy.deploy.paths import EdgePaths

    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "chat"
        shutil.copytree(CHATROOM, project, ignore=shutil.ignore_patterns(".wranglerpy*"))
        paths = EdgePaths.resolve(Path(folder) / "edge")
        os.environ["WRANGLERPY_EDGE_DIR"] = str(paths.root)
        os.environ["WRANGLERPY_REGISTRY_PATH"] = str(Path(folder) / "registry")
        cwd = os.getcwd()
        os.chdir(project)
        runner = CliRunner()
        try:
            started = await asyncio.to_thread(runner.invoke, app, ["edge", "start", "--port", "0"])
            assert started.exit_code == 0, started.output
            deployed = await asyncio.to_thread(
                runner.invoke, app, ["deploy", "-c", "wrangler.jsonc"]
            )
            assert deployed.exit_code == 0, deployed.output
            edge = running_edge(paths)
            assert edge is not None
            url = f"ws://python-chatroom.localhost:{edge.port}/room/bench"
            warm = await websockets.connect(url, host="127.0.0.1", port=edge.port)
            await warm.recv()
            clients = []
            for _ in range(SOCKETS):
                receiver = await ws_receivers.connect(url, "", address="127.0.0.1")
                tally = ws_receivers.Tally(1)
                receiver.expect(1, tally)
                await tally.done  # the welcome message
                clients.append(receiver)
            workers = edge.status().workers["python-chatroom"].processes
            results = await broadcasts(warm, clients, [edge.pid, *workers])
            await warm.close()
            await asyncio.gather(*(client.close() for client in clients))
        finally:
            stop_edge(paths)
            os.chdir(cwd)
    return {f"edge_{k}": v for k, v in results.items()}


async def rpc_across_processes() -> dict[str, Any]:
    """Stub RPC from another process: the same DurableObjectHead frames a worker's stub sends
    to the process owning the namespace (tests/.../fixtures/counter under ``dev``)."""
    from wranglerpy.bindings.durable_objects.ids import IdFactory
    from wranglerpy.bindings.durable_objects.remote import Ownership, WireCourier
    from wranglerpy.bindings.durable_objects.routing import (
        ObjectAddress,
        decode_result,
        encode_call,
    )
    from wranglerpy.testing.dev_server import DevServer

    counter = ROOT / "tests" / "bindings" / "durable_objects" / "fixtures" / "counter"
    with (
        tempfile.TemporaryDirectory() as state,
        DevServer(counter / "wrangler.toml", cwd=counter, persist_to=state, watch=False) as dev,
    ):
        dev.client().get("/hit")  # the owner is up and serving
        owner = Ownership(dev.registry_dir).owner_socket("counter-Counter")
        assert owner is not None
        object_id = IdFactory("counter-Counter").from_name("c").toString()
        address = ObjectAddress("counter", "Counter", object_id, "c")
        courier = WireCourier()
        call = encode_call("hit", [], {})
        latencies = []
        for _ in range(min(OPS, 3000)):
            start = time.perf_counter()
            decode_result(await courier.send(owner, address, call))
            latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return {
        "rpc_cross_process_p50_ms": latencies[len(latencies) // 2],
        "rpc_cross_process_p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def run(part: Any) -> dict[str, Any]:
    """Run a part on uvloop when installed, as worker processes do (runtime/child.py): the
    RPC caller stands for another worker's process."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(part())
    return uvloop.run(part())  # type: ignore[no-any-return]


def main() -> None:
    parts = {
        "in_process": in_process,
        "rpc": rpc_across_processes,
        "sockets": sockets_under_dev,
        "edge_sockets": sockets_under_edge,
    }
    only = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")), None)
    chosen = only.split(",") if only else list(parts)
    figures: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    for name in chosen:
        figures.update(run(parts[name]))
    figures["load_average_after"] = os.getloadavg()[0]
    if "--json" in sys.argv:
        print(json.dumps(figures, indent=2))
        return
    for name, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:<28} {shown}")


if __name__ == "__main__":
    main()
