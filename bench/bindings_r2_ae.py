#!/usr/bin/env python3
"""Per-operation latency of the local R2 and Analytics Engine bindings, beside `wrangler dev`.

    .venv/bin/python bench/bindings_r2_ae.py                 # binding calls, as worker code makes them
    .venv/bin/python bench/bindings_r2_ae.py --http          # + the same ops through `wranglerpy dev`
    .venv/bin/python bench/bindings_r2_ae.py --http --peer /path/to/node_modules/.bin/wrangler

Three views of one set of operations (R2 put/get of 1 MiB, R2 head, writeDataPoint):

1. binding: each call awaited in one event loop, in this process (what a handler waits for);
2. in-worker: the worker itself loops over the op and times it with its own clock
   (``/loop?op=...``), so the HTTP hop is not counted. workerd's clocks only move on I/O, so
   a loop of writeDataPoint (no I/O) reads 0 there; that row is left out for the peer;
3. HTTP: one op per request (``/r2/get``, ``/r2/put`` with a 1 MiB body, ``/ae``), p50 over the
   same keep-alive client loop for both servers, next to ``/health`` as the floor.

``--peer`` runs the same routes (an equivalent JS worker, written to a temp folder) through a
real ``wrangler dev`` in the same run, so the figures are comparable. No R2/AE figures exist in
../shared/bench/peer-wrangler/, which is why the peer is run here. Loopback only; every loop is
bounded; servers are stopped by their process group.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wranglerpy.bindings import analytics_engine, r2  # noqa: E402
from wranglerpy.bindings.r2 import R2ObjectBody  # noqa: E402
from wranglerpy.config.schema import AnalyticsEngineDataset, R2Bucket  # noqa: E402

MIB = 1024 * 1024
POINT = {"blobs": ["bench", "/ae", None], "doubles": [1.0, 2.5], "indexes": ["bench"]}

CONFIG = """
name = "bench-r2ae"
main = "{main}"
compatibility_date = "2025-09-01"

[[r2_buckets]]
binding = "R2"
bucket_name = "bench-bucket"

[[analytics_engine_datasets]]
binding = "AE"
dataset = "bench_ae"
"""

PY_WORKER = """
import json, time
from urllib.parse import parse_qs, urlsplit
from workers import Response, WorkerEntrypoint

MIB = b"x" * (1024 * 1024)
POINT = {"blobs": ["bench", "/ae", None], "doubles": [1.0, 2.5], "indexes": ["bench"]}


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        q = parse_qs(url.query)
        key = q.get("k", ["mib"])[0]
        env = self.env
        if url.path == "/health":
            return Response("ok")
        if url.path == "/sink":
            await request.bytes()
            return Response("ok")
        if url.path == "/r2/put":
            await env.R2.put(key, await request.bytes())
            return Response("ok")
        if url.path == "/r2/get":
            obj = await env.R2.get(key)
            if obj is None:
                return Response("missing", status=404)
            return Response(obj.body)
        if url.path == "/ae":
            env.AE.writeDataPoint(POINT)
            return Response("ok")
        if url.path == "/loop":
            op, n = q["op"][0], int(q["n"][0])
            started = time.perf_counter()
            for i in range(n):
                if op == "put":
                    await env.R2.put(f"loop-{i % 4}", MIB)
                elif op == "get":
                    await (await env.R2.get("mib")).arrayBuffer()
                elif op == "head":
                    await env.R2.head("mib")
                else:
                    env.AE.writeDataPoint(POINT)
            ms = (time.perf_counter() - started) * 1000
            return Response(json.dumps({"ms_per_op": ms / n}))
        return Response("not found", status=404)
"""

JS_WORKER = """
const MIB = new Uint8Array(1024 * 1024).fill(120);
const POINT = { blobs: ["bench", "/ae", null], doubles: [1.0, 2.5], indexes: ["bench"] };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.searchParams.get("k") || "mib";
    switch (url.pathname) {
      case "/health":
        return new Response("ok");
      case "/sink":
        await request.arrayBuffer();
        return new Response("ok");
      case "/r2/put":
        await env.R2.put(key, await request.arrayBuffer());
        return new Response("ok");
      case "/r2/get": {
        const obj = await env.R2.get(key);
        if (obj === null) return new Response("missing", { status: 404 });
        return new Response(obj.body);
      }
      case "/ae":
        env.AE.writeDataPoint(POINT);
        return new Response("ok");
      case "/loop": {
        const op = url.searchParams.get("op");
        const n = parseInt(url.searchParams.get("n"), 10);
        const started = Date.now();
        for (let i = 0; i < n; i++) {
          if (op === "put") await env.R2.put(`loop-${i % 4}`, MIB);
          else if (op === "get") await (await env.R2.get("mib")).arrayBuffer();
          else if (op === "head") await env.R2.head("mib");
          else env.AE.writeDataPoint(POINT);
        }
        return Response.json({ ms_per_op: (Date.now() - started) / n });
      }
    }
    return new Response("not found", { status: 404 });
  },
};
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


async def timed(n: int, op: Callable[[int], Awaitable[object]]) -> list[float]:
    for i in range(min(20, n)):  # warm-up
        await op(i)
    out = []
    for i in range(n):
        started = time.perf_counter()
        await op(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def binding_ops(folder: Path, n: int) -> dict[str, list[float]]:
    bucket = r2.create(R2Bucket(binding="R2", bucket_name="bench"), folder)
    dataset = analytics_engine.create(AnalyticsEngineDataset("AE", "bench"), folder)
    mib = os.urandom(MIB)
    await bucket.put("mib", mib)
    await bucket.put("small", b"s" * 1024)

    async def body(key: str) -> R2ObjectBody:
        obj = await bucket.get(key)
        assert isinstance(obj, R2ObjectBody), f"{key} vanished"
        return obj

    async def get_mib(_: int) -> None:
        await (await body("mib")).arrayBuffer()

    async def stream_mib(_: int) -> None:
        async for _chunk in (await body("mib")).body:
            pass

    async def get_small(_: int) -> None:
        await (await body("small")).arrayBuffer()

    async def write_point(_: int) -> None:
        dataset.writeDataPoint(POINT)  # synchronous, as on Cloudflare

    big = max(20, n // 20)
    results = {
        "R2 put 1 MiB": await timed(big, lambda i: bucket.put(f"put-{i % 4}", mib)),
        "R2 get 1 MiB (arrayBuffer)": await timed(big, get_mib),
        "R2 get 1 MiB (body stream)": await timed(big, stream_mib),
        "R2 put 1 KiB": await timed(n, lambda i: bucket.put(f"s-{i % 100}", b"s" * 1024)),
        "R2 get 1 KiB": await timed(n, get_small),
        "R2 head": await timed(n, lambda i: bucket.head("mib")),
        "R2 list (100 keys)": await timed(n // 10, lambda i: bucket.list(limit=100)),
        "AE writeDataPoint": await timed(n * 5, write_point),
    }
    bucket.close()
    dataset.close()
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One dev server (ours or wrangler's) on 127.0.0.1, stopped by its process group."""

    def __init__(self, label: str, cmd: list[str], cwd: Path, port: int, log: Path) -> None:
        self.label = label
        self.port = port
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "WRANGLER_SEND_METRICS": "false",
            "WRANGLER_SEND_ERROR_REPORTS": "false",
            "CLOUDFLARE_CF_FETCH_ENABLED": "false",
            "WRANGLER_HIDE_BANNER": "true",
            "WRANGLER_LOG_PATH": str(log.parent / "wrangler-logs"),
            "WRANGLER_REGISTRY_PATH": str(log.parent / "registry"),
        }
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        deadline = time.monotonic() + 90
        while True:
            try:
                self.request("GET", "/health")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"{label} did not answer; see {log}") from None
                self.conn.close()
                time.sleep(0.2)

    def request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        self.conn.request(method, path, body=body)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise SystemExit(f"{self.label} {path} answered {response.status}: {data[:200]!r}")
        return data

    def stop(self) -> None:
        self.conn.close()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()


def http_ops(server: Server, n: int, skip_ae_loop: bool) -> dict[str, list[float]]:
    body = b"x" * MIB
    server.conn.close()  # a fresh connection: the old one may have idled out meanwhile
    server.request("POST", "/r2/put?k=mib", body)
    big = max(20, n // 20)
    routes: list[tuple[str, str, str, bytes | None, int]] = [
        ("HTTP /health", "GET", "/health", None, n),
        ("HTTP R2 get 1 MiB", "GET", "/r2/get?k=mib", None, big),
        ("HTTP POST 1 MiB, body read only", "POST", "/sink", body, big),
        ("HTTP R2 put 1 MiB", "POST", "/r2/put?k=put", body, big),
        ("HTTP AE writeDataPoint", "GET", "/ae", None, n),
    ]
    out: dict[str, list[float]] = {}
    for label, method, path, payload, count in routes:
        for _ in range(min(50, count)):  # warm-up
            server.request(method, path, payload)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            server.request(method, path, payload)
            times.append((time.perf_counter() - started) * 1000)
        out[label] = times
    loops = [("put", "R2 put 1 MiB", 20), ("get", "R2 get 1 MiB (arrayBuffer)", 20),
             ("head", "R2 head", 200), ("ae", "AE writeDataPoint", 2000)]  # fmt: skip
    for op, label, count in loops:
        if op == "ae" and skip_ae_loop:
            continue
        server.request("GET", f"/loop?op={op}&n={count}")  # warm-up
        runs = [
            json.loads(server.request("GET", f"/loop?op={op}&n={count}"))["ms_per_op"]
            for _ in range(5)
        ]
        out[f"in-worker {label}"] = runs
    return out


def start_ours(folder: Path) -> Server:
    proj = folder / "ours"
    (proj / "src").mkdir(parents=True)
    (proj / "src" / "entry.py").write_text(PY_WORKER)
    (proj / "wrangler.toml").write_text(CONFIG.format(main="src/entry.py"))
    wpy = Path(sys.executable).with_name("wranglerpy")
    port = free_port()
    cmd = [str(wpy), "dev", "--port", str(port), "--ip", "127.0.0.1", "--no-watch",
           "--persist-to", str(folder / "ours-state"), "--log-level", "error"]  # fmt: skip
    return Server("wranglerpy dev", cmd, proj, port, folder / "ours.log")


def start_peer(folder: Path, wrangler: str) -> Server:
    proj = folder / "peer"
    (proj / "src").mkdir(parents=True)
    (proj / "src" / "index.js").write_text(JS_WORKER)
    (proj / "wrangler.toml").write_text(CONFIG.format(main="src/index.js"))
    port = free_port()
    cmd = [wrangler, "dev", "--port", str(port), "--ip", "127.0.0.1",
           "--inspector-port", str(free_port()), "--persist-to", str(folder / "peer-state"),
           "--show-interactive-dev-session=false", "--log-level", "error"]  # fmt: skip
    return Server("wrangler dev", cmd, proj, port, folder / "peer.log")


Rounds = dict[str, list[list[float]]]  # operation -> one list of timings per round


def report(columns: dict[str, Rounds]) -> None:
    """p50: the median of the per-round p50s (robust to a noisy round); p99: over all rounds."""
    names = list(columns)
    labels: list[str] = []
    for col in columns.values():
        labels += [label for label in col if label not in labels]
    head = f"{'operation':34}" + "".join(f"{name + ' p50':>22}{'p99':>9}" for name in names)
    print(head)
    for label in labels:
        row = f"{label:34}"
        for name in names:
            rounds = columns[name].get(label)
            if rounds is None:
                row += f"{'—':>22}{'':>9}"
                continue
            p50 = statistics.median(pct(r, 50) for r in rounds)
            p99 = pct([v for r in rounds for v in r], 99)
            row += f"{p50:22.3f}{p99:9.3f}"
        print(row)
    print(
        "(ms. binding rows: awaited calls in this process. HTTP rows: one op per request, same\n"
        " client for both servers, servers up together and measured in alternation. in-worker\n"
        " rows: ms per op over a loop inside the worker, timed with the worker's own clock.)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="timed calls per small operation")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP rounds per server")
    parser.add_argument("--http", action="store_true", help="also measure through wranglerpy dev")
    parser.add_argument(
        "--peer", metavar="WRANGLER", help="also run the routes through wrangler dev"
    )
    args = parser.parse_args()
    columns: dict[str, Rounds] = {}
    with tempfile.TemporaryDirectory(prefix="wranglerpy-bench-r2ae-") as tmp:
        folder = Path(tmp)
        ops = asyncio.run(binding_ops(folder / "binding", args.n))
        columns["wranglerpy"] = {label: [values] for label, values in ops.items()}
        servers: list[Server] = []
        try:
            if args.http or args.peer:
                servers.append(start_ours(folder))
            if args.peer:
                servers.append(start_peer(folder, args.peer))
                columns["wrangler"] = {}
            for _ in range(args.rounds):
                for server in servers:
                    column = columns["wranglerpy" if server is servers[0] else "wrangler"]
                    measured = http_ops(server, args.n, skip_ae_loop=server is not servers[0])
                    for label, values in measured.items():
                        column.setdefault(label, []).append(values)
        finally:
            for server in servers:
                server.stop()
    report(columns)


if __name__ == "__main__":
    main()
