#!/usr/bin/env python3
"""Per-call latency of the KV and R2 bindings on each state backend, in one run.

    .venv/bin/python bench/state_backends.py [--rounds 300]

Starts a real redis-server and a SeaweedFS S3 server on free 127.0.0.1 ports (their own
process groups, stopped by PID; tests/state/servers.py), then times each awaited binding call,
as worker code makes it, on the local store, on Redis (KV) and on S3 (R2). Prints medians and
p90 in milliseconds, and each backend's median beside the local one (ratio). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.state.servers import running, start_redis, start_seaweedfs  # noqa: E402
from wranglerpy.bindings.kv import KVNamespaceBinding  # noqa: E402
from wranglerpy.bindings.r2 import R2BucketBinding  # noqa: E402
from wranglerpy.state.backends import parse_kv_url, parse_r2_url  # noqa: E402
from wranglerpy.state.redis_kv import RedisKVStore  # noqa: E402
from wranglerpy.state.s3_r2 import S3R2Store  # noqa: E402

MIB = bytes(range(256)) * 4096


async def timed(rounds: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    await call(-1)  # warm up (connections, bucket creation)
    out = []
    for i in range(rounds):
        start = time.perf_counter()
        await call(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


async def kv_cases(ns: KVNamespaceBinding, rounds: int) -> dict[str, list[float]]:
    await ns.put("hot", "v" * 100)
    for i in range(100):
        await ns.put(f"list-{i:03d}", "v")

    async def list_100(_: int) -> object:
        return await ns.list(prefix="list-")

    return {
        "KV get (100 B)": await timed(rounds, lambda i: ns.get("hot")),
        "KV put (100 B)": await timed(rounds, lambda i: ns.put(f"k{i % 50}", "v" * 100)),
        "KV list (100 keys)": await timed(max(rounds // 5, 20), list_100),
    }


async def r2_cases(bucket: R2BucketBinding, rounds: int) -> dict[str, list[float]]:
    await bucket.put("small", b"x" * 1024)
    await bucket.put("big", MIB)
    for i in range(100):
        await bucket.put(f"dir/{i:03d}", b"x")

    async def get_small(_: int) -> object:
        return await (await bucket.get("small")).arrayBuffer()  # type: ignore[union-attr]

    async def get_big(_: int) -> object:
        return await (await bucket.get("big")).arrayBuffer()  # type: ignore[union-attr]

    async def list_100(_: int) -> object:
        return await bucket.list(prefix="dir/")

    few = max(rounds // 5, 20)
    return {
        "R2 put (1 KiB)": await timed(rounds, lambda i: bucket.put(f"p{i % 50}", b"x" * 1024)),
        "R2 get (1 KiB)": await timed(rounds, get_small),
        "R2 put (1 MiB)": await timed(few, lambda i: bucket.put(f"b{i % 10}", MIB)),
        "R2 get (1 MiB)": await timed(few, get_big),
        "R2 list (100 objects)": await timed(few, list_100),
    }


def report(rows: dict[str, dict[str, list[float]]]) -> None:
    print(f"{'operation':24} {'backend':8} {'p50 ms':>8} {'p90 ms':>8} {'x local':>8}")
    for op, by_backend in rows.items():
        local = statistics.median(by_backend["local"])
        for backend, values in by_backend.items():
            p50 = statistics.median(values)
            p90 = sorted(values)[int(0.9 * (len(values) - 1))]
            print(f"{op:24} {backend:8} {p50:8.3f} {p90:8.3f} {p50 / local:8.1f}")


async def main(rounds: int, work: Path, redis_url: str, s3_url: str) -> None:
    rows: dict[str, dict[str, list[float]]] = {}
    local_kv = KVNamespaceBinding(work / "kv.sqlite", namespace_id="bench")
    redis_store = RedisKVStore(parse_kv_url(redis_url), f"bench-{uuid.uuid4().hex[:8]}")
    for name, ns in (("local", local_kv), ("redis", KVNamespaceBinding(redis_store))):
        for op, values in (await kv_cases(ns, rounds)).items():
            rows.setdefault(op, {})[name] = values
    local_kv.close()
    await redis_store.aclose()
    s3 = S3R2Store(parse_r2_url(f"{s3_url}?bucket_prefix=bench{uuid.uuid4().hex[:6]}-"), "r2")
    for name, bucket in (
        ("local", R2BucketBinding(work / "bucket", bucket_name="r2")),
        ("s3", R2BucketBinding(s3, bucket_name="r2")),
    ):
        for op, values in (await r2_cases(bucket, rounds)).items():
            rows.setdefault(op, {})[name] = values
        bucket.close()
    report(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wranglerpy-bench-") as tmp:
        work = Path(tmp)
        with (
            running(start_redis, work / "redis") as redis_server,
            running(start_seaweedfs, work / "weed") as s3_server,
        ):
            asyncio.run(main(args.rounds, work, redis_server.url, s3_server.url))
