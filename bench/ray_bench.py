"""The Ray target beside the local edge, same run: requests/s and first-event latency of the
example, cluster start-up time and idle memory per node.

    .venv/bin/pip install -e '.[ray]'
    .venv/bin/python bench/ray_bench.py [--seconds 10] [--concurrency 16] [--chats 5]

Starts a head and two worker nodes on 127.0.0.1 (``ray start --block``, own sessions, stopped
by pid), deploys ``examples/inference-ui`` to it (API, model and ingress on node_a, two
streaming replicas on node_b; Serve's proxy on every node) and to a private local edge, then
alternates the targets (the head's proxy, node_b's proxy, the edge): GET /health (API worker
alone), GET /stream/health (API → service binding → streaming worker), and the time to the
first SSE ``message-part`` of a chat. Then POSTs bodies of ``--body-mb`` sizes to a worker on
node_b that reads them whole (bodies over 1 MB stream through the ingress's inbox), with the
peak memory of each node while a body crosses. Medians; everything started here is stopped here.

Measured 2026-12-01 (2 cores shared with 6 other sessions, load average ~20; c=16, 2 rounds x
8 s, 4 chats a round), before -> now where an earlier run exists (load was lower then):
cluster start-up 43.5 -> 95.6 s; deploy ray 101.3 s vs edge 38.7 s; idle RSS (bare -> with the
example) head 962 -> 1,204 MB, node_a 496 -> 1,466 MB, node_b 494 -> 1,242 MB;
GET /health ray 22 req/s vs edge 48 (0.47x; was 0.44x), via node_b's proxy 20 (0.42x);
GET /stream/health ray 19 vs edge 38 (0.50x; was 0.54x), via node_b 17 (0.45x);
first chat message-part ray 1,223 ms vs edge 1,204 ms (1.02x; was 0.74x), via node_b 894 ms;
POST 1 MB ray 0.10 s vs edge 0.05 s, 10 MB 0.35 vs 0.16 s, 50 MB 1.20 vs 0.99 s; peak RSS
above idle while 50 MB crossed: head +130 MB, node_a +200 MB, node_b +142 MB (the worker
itself reads it whole); failed requests 0 on every target.
Queue messages end to end (bench/ray_queues.py, in the same run; 2 rounds of 2,000): ray
1,905 msg/s (producer node_a, consumer node_b, store in the primary) vs edge 3,804 (0.50x).

Durable Object RPC on Ray beside dev: bench/ray_do_bench.py (head + 1 node, no model needed):
read p50 2.74 ms vs dev in-process 0.01 ms; write (storage image saved to the primary before
the answer) p50 5.23 ms vs 0.02 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ray_cluster import cli, local_cluster, stop_edge  # noqa: E402 - after the path

EXAMPLE = ROOT / "examples" / "inference-ui"
API = "inference-ui-api"
PLACEMENT = """
[ai]
resources = { node_a = 1 }
[ingress]
resources = { node_a = 1 }
[workers.inference-ui-api]
resources = { node_a = 1 }
[workers.inference-ui-streaming]
replicas = 2
resources = { node_b = 1 }
[workers.body-sink]
resources = { node_b = 1 }
"""
# What a request body costs: a worker that reads the whole body and answers its length.
SINK = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(str(len(await request.bytes())))
"""
SINK_CONFIG = """name = "body-sink"
main = "sink/sink.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]
"""


class PeakRss:
    """The largest resident memory of each node's processes while it runs (sampled)."""

    def __init__(self, nodes: dict[str, list[int]]) -> None:
        self.nodes = nodes
        self.peak = {name: 0.0 for name in nodes}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pids in self.nodes.items():
                self.peak[name] = max(self.peak[name], pids_rss_mb(pids))
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pids_rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def upload(url: str, host: str, size: int) -> float:
    """Seconds to POST ``size`` bytes and have the worker's answer (their length)."""
    body = os.urandom(size)
    async with httpx.AsyncClient(timeout=600) as client:
        started = time.perf_counter()
        response = await client.post(url, content=body, headers={"host": host})
        took = time.perf_counter() - started
    if response.status_code != 200 or response.text != str(size):
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return took


async def throughput(url: str, host: str, seconds: float, concurrency: int) -> tuple[float, int]:
    """Requests/s over ``seconds`` with ``concurrency`` clients; and the failures."""
    done = failed = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                try:
                    response = await client.get(url, headers={"host": host})
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                done += ok
                failed += not ok

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        return done / (time.perf_counter() - started), failed


async def first_event(url: str, host: str, prompt: str) -> float:
    body = {
        "messages": [{"role": "user", "parts": [{"type": "text", "text": prompt}]}],
        "maxTokens": 8,
    }
    async with httpx.AsyncClient(timeout=120) as client:
        started = time.perf_counter()
        async with client.stream("POST", url, json=body, headers={"host": host}) as response:
            async for line in response.aiter_lines():
                if '"type":"message-part"' in line:
                    return time.perf_counter() - started
    raise RuntimeError(f"no message-part from {url}")


def main() -> None:
    from wranglerpy.ray.local_cluster import free_port

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queue-messages", type=int, default=2000)
    parser.add_argument("--body-mb", default="1,10,50", help="request body sizes to time")
    args = parser.parse_args()
    sizes = [int(float(mb) * 1024 * 1024) for mb in args.body_mb.split(",") if mb]

    with local_cluster(prefix="wrp-bench-") as bench:
        cluster, work, startup = bench.cluster, bench.work, bench.startup_seconds
        project = work / "inference-ui"
        shutil.copytree(
            EXAMPLE, project, ignore=shutil.ignore_patterns(".wranglerpy", "__pycache__")
        )
        (project / "ray.toml").write_text(PLACEMENT)
        sink = work / "body-sink"  # its own folder: `deploy --all` takes every config of one
        (sink / "sink").mkdir(parents=True)
        (sink / "sink" / "sink.py").write_text(SINK)
        (sink / "wrangler.toml").write_text(SINK_CONFIG)
        (sink / "ray.toml").write_text(PLACEMENT)
        env = dict(
            bench.env,
            WRANGLERPY_EDGE_DIR=str(work / "edge"),
            WRANGLERPY_REGISTRY_PATH=str(work / "registry"),
        )
        edge_started = False
        try:
            bare = {n.name: pids_rss_mb(n.pids()) for n in cluster.nodes}
            for state in (work / "ray" / "state", work / "edge" / "state"):  # the example's tables
                cli(
                    project,
                    env,
                    "d1",
                    "migrations",
                    "apply",
                    "inference-ui-db",
                    "-e",
                    "production",
                    "--persist-to",
                    str(state),
                )
            ray_args = ["--target", "ray", "--ray-address", cluster.address]
            ray_args += [
                "--state-dir",
                str(work / "ray"),
                "--ray-http-port",
                str(cluster.http_port),
            ]
            started = time.perf_counter()
            cli(project, env, "deploy", "--all", "-e", "production", *ray_args)
            ray_deploy = time.perf_counter() - started
            cli(sink, env, "deploy", *ray_args)
            edge_port = free_port()
            started = time.perf_counter()
            edge_started = True  # stopped at the end even if this deploy fails half-way
            cli(project, env, "deploy", "--all", "-e", "production", "--edge-port", str(edge_port))
            edge_deploy = time.perf_counter() - started
            cli(sink, env, "deploy", "--edge-port", str(edge_port))
            node_b = cluster.node("node_b")
            targets = {
                "ray": f"http://127.0.0.1:{cluster.http_port}",
                "ray via node_b": f"http://127.0.0.1:{node_b.http_port}",
                "edge": f"http://127.0.0.1:{edge_port}",
            }
            host = f"{API}.localhost"
            for base in targets.values():  # warm: first model load, first imports
                asyncio.run(first_event(f"{base}/stream/chat", host, "warm up"))
            time.sleep(5)
            idle = {n.name: pids_rss_mb(n.pids()) for n in cluster.nodes}
            results: dict[str, dict[str, list[float]]] = {t: {} for t in targets}
            failures: dict[str, int] = {t: 0 for t in targets}
            for round_ in range(args.rounds):
                for name, base in targets.items():
                    for path in ("/health", "/stream/health"):
                        rate, failed = asyncio.run(
                            throughput(base + path, host, args.seconds, args.concurrency)
                        )
                        results[name].setdefault(path, []).append(rate)
                        failures[name] += failed
                    for i in range(args.chats):
                        prompt = f"Say hello number {round_}-{i}"  # new prompt: no cached answer
                        seconds = asyncio.run(first_event(base + "/stream/chat", host, prompt))
                        results[name].setdefault("first_event_ms", []).append(seconds * 1000)
            bodies: dict[int, dict[str, float]] = {}
            peaks: dict[int, dict[str, float]] = {}
            for size in sizes:
                bodies[size] = {}
                for name in ("ray", "edge"):
                    url = targets[name] + "/"
                    if name == "ray":
                        pids = {n.name: n.pids() for n in cluster.nodes}
                        before = {n: pids_rss_mb(p) for n, p in pids.items()}
                        with PeakRss(pids) as peak:
                            took = [asyncio.run(upload(url, "body-sink.localhost", size))]
                        peaks[size] = {n: peak.peak[n] - before[n] for n in pids}
                        took += [
                            asyncio.run(upload(url, "body-sink.localhost", size)) for _ in range(2)
                        ]
                    else:
                        took = [
                            asyncio.run(upload(url, "body-sink.localhost", size)) for _ in range(3)
                        ]
                    bodies[size][name] = statistics.median(took)
            # Queue messages/s end to end, Ray beside a local edge (bench/ray_queues.py).
            from bench.ray_queues import run_on as queues_on

            try:
                queue_lines = queues_on(
                    cluster,
                    env,
                    work,
                    args.queue_messages,
                    args.rounds,
                    http_port=cluster.http_port,
                    state_dir=work / "ray",
                )
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - keep the figures above
                queue_lines = [f"queue messages end to end: not measured ({exc})"]
        finally:
            if edge_started:
                stop_edge(project, env)

    print(f"cluster start-up (head + 2 nodes, until all 3 alive): {startup:.1f} s")
    print(f"deploy of the example: ray {ray_deploy:.1f} s, local edge {edge_deploy:.1f} s")
    for node in bare:
        print(f"node {node}: {bare[node]:.0f} MB bare, {idle[node]:.0f} MB idle with the example")
    edge = results["edge"]
    for path in ("/health", "/stream/health"):
        for name in ("ray", "ray via node_b"):
            rate = statistics.median(results[name][path])
            edge_rate = statistics.median(edge[path])
            print(
                f"GET {path} (c={args.concurrency}): {name} {rate:.0f} req/s, edge "
                f"{edge_rate:.0f} req/s ({name}/edge {rate / edge_rate:.2f}x)"
            )
    edge_first = statistics.median(edge["first_event_ms"])
    for name in ("ray", "ray via node_b"):
        first = statistics.median(results[name]["first_event_ms"])
        print(
            f"chat first message-part: {name} {first:.0f} ms, edge {edge_first:.0f} ms "
            f"({name}/edge {first / edge_first:.2f}x)"
        )
    for size, median in bodies.items():
        extra = ", ".join(f"{n} +{mb:.0f} MB" for n, mb in peaks[size].items())
        print(
            f"POST {size // (1024 * 1024)} MB body: ray {median['ray']:.2f} s, edge "
            f"{median['edge']:.2f} s (ray/edge {median['ray'] / median['edge']:.2f}x); ray peak RSS "
            f"above idle while it crossed: {extra}"
        )
    print(f"failed requests: {failures}")
    print("\n".join(queue_lines))


if __name__ == "__main__":
    main()
