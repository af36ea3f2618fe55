"""Queue messages per second end to end on the Ray target beside the local edge, same run.

    .venv/bin/python bench/ray_queues.py [--messages 2000] [--rounds 3]

A producer worker (``sendBatch`` of 100 per request, 4 requests at once) and a consumer
worker (``max_batch_size = 100``; it acks every message and adds the batch's size to a D1
counter) are deployed to a Ray cluster (head: the primary; node_a: the producer; node_b: the
consumer) and to a private local edge (the dev bindings: one SQLite queue store). A round
sends ``--messages`` messages and ends when the counter has them all: messages / seconds,
medians over the rounds. ``run_on(cluster, ...)`` is what ``ray_bench.py`` calls to add these
lines to its own run.

Measured (2 cores shared with other sessions, 3 rounds of 2,000): ray 1,897 msg/s vs edge
4,229 msg/s (0.45x); rounds ray 1,437 / 1,897 / 2,595, edge 4,229 / 5,449 / 4,179.
Again after merging main (per-node proxies): ray 1,781 vs edge 4,883 msg/s (0.36x).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ray_cluster import cli, local_cluster, stop_edge  # noqa: E402 - after the path

PRODUCER = """
from urllib.parse import parse_qs, urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/send":
            first, n = int(query["first"]), int(query["n"])
            await self.env.JOBS.sendBatch([{"body": i} for i in range(first, first + n)])
            return Response("sent")
        await self.env.DB.exec(SCHEMA)
        n = await self.env.DB.prepare("SELECT COALESCE(SUM(n), 0) AS n FROM got").first("n")
        return Response(str(n))


SCHEMA = "CREATE TABLE IF NOT EXISTS got (n INTEGER)"
"""
CONSUMER = """
from workers import WorkerEntrypoint

SCHEMA = "CREATE TABLE IF NOT EXISTS got (n INTEGER)"


class Default(WorkerEntrypoint):
    async def queue(self, batch):
        await self.env.DB.exec(SCHEMA)
        await self.env.DB.prepare("INSERT INTO got VALUES (?)").bind(len(batch.messages)).run()
        batch.ackAll()
"""
COMMON = """name = "{name}"
main = "src/{name}.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]

[[d1_databases]]
binding = "DB"
database_name = "bench-db"
database_id = "bench-db"
"""
PRODUCER_TOML = """
[[queues.producers]]
binding = "JOBS"
queue = "bench-jobs"
"""
CONSUMER_TOML = """
[[queues.consumers]]
queue = "bench-jobs"
max_batch_size = 100
max_batch_timeout = 0.5
"""
PLACEMENT = """
[primary]
resources = { head = 1 }
[ingress]
resources = { head = 1 }
[workers.qb-producer]
resources = { node_a = 1 }
[workers.qb-consumer]
resources = { node_b = 1 }
"""
HOST = "qb-producer.localhost"
PER_REQUEST = 100
SENDERS = 4


def write_project(folder: Path) -> Path:
    (folder / "src").mkdir(parents=True)
    for name, source, toml in (
        ("qb-producer", PRODUCER, PRODUCER_TOML),
        ("qb-consumer", CONSUMER, CONSUMER_TOML),
    ):
        (folder / "src" / f"{name}.py").write_text(source)
        (folder / f"wrangler-{name}.toml").write_text(COMMON.format(name=name) + toml)
    (folder / "ray.toml").write_text(PLACEMENT)
    return folder


async def one_round(base: str, first: int, messages: int) -> float:
    """Messages per second from the first send to the last message counted."""
    async with httpx.AsyncClient(timeout=120) as client:

        async def count() -> int:
            response = await client.get(f"{base}/count", headers={"host": HOST})
            response.raise_for_status()
            return int(response.text)

        before = await count()
        starts = list(range(first, first + messages, PER_REQUEST))
        started = time.perf_counter()

        async def sender(mine: list[int]) -> None:
            for start in mine:
                response = await client.get(
                    f"{base}/send",
                    params={"first": start, "n": min(PER_REQUEST, first + messages - start)},
                    headers={"host": HOST},
                )
                response.raise_for_status()

        await asyncio.gather(*(sender(starts[i::SENDERS]) for i in range(SENDERS)))
        while await count() < before + messages:
            await asyncio.sleep(0.05)
        return messages / (time.perf_counter() - started)


def run_on(
    cluster: Any,
    env: dict[str, str],
    work: Path,
    messages: int,
    rounds: int,
    *,
    http_port: int | None = None,
    state_dir: Path | None = None,
) -> list[str]:
    """Deploy the two workers to ``cluster`` and to a local edge, alternate rounds; the
    report's lines. The edge is stopped here. On a cluster already serving (ray_bench),
    pass its Serve HTTP port and state folder: Serve keeps the port it started with, and
    the ingress routes what that folder's history says is live."""
    from wranglerpy.ray.local_cluster import free_port

    project = write_project(work / "queues-bench")
    configs = ["-c", "wrangler-qb-consumer.toml", "-c", "wrangler-qb-producer.toml"]
    ray_port = http_port or cluster.http_port  # the head's proxy
    cli(
        project,
        env,
        "deploy",
        "--all",
        *configs,
        "--target",
        "ray",
        "--ray-address",
        cluster.address,
        "--state-dir",
        str(state_dir or work / "ray-queues"),
        "--ray-http-port",
        str(ray_port),
        "--ray-proxy",
        "EveryNode",  # LocalCluster gives each worker node's proxy a port of its own
    )
    edge_env = dict(
        env,
        WRANGLERPY_EDGE_DIR=str(work / "edge-queues"),
        WRANGLERPY_REGISTRY_PATH=str(work / "registry-queues"),
    )
    edge_port = free_port()
    try:
        cli(project, edge_env, "deploy", "--all", *configs, "--edge-port", str(edge_port))
        targets = {"ray": f"http://127.0.0.1:{ray_port}", "edge": f"http://127.0.0.1:{edge_port}"}
        rates: dict[str, list[float]] = {name: [] for name in targets}
        for base in targets.values():  # warm: first imports, first tables
            asyncio.run(one_round(base, 0, PER_REQUEST))
        sent = PER_REQUEST
        for _ in range(rounds):
            for name, base in targets.items():
                rates[name].append(asyncio.run(one_round(base, sent, messages)))
            sent += messages
    finally:
        stop_edge(project, edge_env)
    ray_rate = statistics.median(rates["ray"])
    edge_rate = statistics.median(rates["edge"])
    return [
        f"queue messages end to end ({messages} a round, sendBatch of {PER_REQUEST}, "
        f"{SENDERS} senders, max_batch_size 100): ray {ray_rate:.0f} msg/s (producer node_a, "
        f"consumer node_b, store in the primary), edge {edge_rate:.0f} msg/s "
        f"(ray/edge {ray_rate / edge_rate:.2f}x); rounds ray {[round(r) for r in rates['ray']]}, "
        f"edge {[round(r) for r in rates['edge']]}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with local_cluster(prefix="wrp-qbench-") as bench:
        lines = run_on(bench.cluster, bench.env, bench.work, args.messages, args.rounds)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
