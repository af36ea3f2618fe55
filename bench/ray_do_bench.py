"""Durable Object RPC on the Ray target beside dev, same run (the Durable Objects line of
bench/ray_bench.py, kept apart: it needs no model and one worker node).

    .venv/bin/python bench/ray_do_bench.py [--calls 300]

dev: the stub and the object in one process (``ObjectHost``, as in a ``dev`` worker that
defines the class), measured before the cluster starts. Ray: a head and one node on 127.0.0.1
(bench/ray_cluster.py: own process groups, stopped by pid); a worker with the class deployed
with ``deploy --target ray``; this driver calls the object's actor (``RayRouter``, as a
replica's stub does). A read touches no storage; a write saves the object's storage image to
the primary before it answers. Medians (p50) and p90.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ray_cluster import cli, local_cluster  # noqa: E402 - after the path

WORKER = """
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    async def read(self):
        return self.ctx.storage.kv.get("n")

    async def write(self):
        value = (self.ctx.storage.kv.get("n") or 0) + 1
        self.ctx.storage.kv.put("n", value)
        return value


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("ok")
"""
CONFIG = """name = "bench-do"
main = "worker.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""


def summary(took: list[float]) -> str:
    took = sorted(took)
    return f"p50 {statistics.median(took):.2f} ms, p90 {took[int(len(took) * 0.9)]:.2f} ms"


async def timed(call: Any, calls: int) -> list[float]:
    await call()  # warm: the object is constructed
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def dev(work: Path, calls: int) -> dict[str, list[float]]:
    from wranglerpy.bindings.durable_objects.host import ObjectHost
    from wranglerpy.bindings.durable_objects.namespace import DurableObjectNamespace
    from wranglerpy.runtime.child import _prepare_imports

    _prepare_imports()  # `workers` is the runtime's module, as in a worker process
    module = types.ModuleType("bench_worker")
    exec(WORKER, module.__dict__)  # noqa: S102 - the bench's own worker code
    host = ObjectHost("bench-do", work / "dev", {"Counter": True})
    host.bind_module(module)
    host.env = {}
    stub = DurableObjectNamespace("COUNTER", "Counter", host).getByName("bench")
    try:
        return {
            "read": await timed(stub.read, calls),
            "write": await timed(stub.write, calls),
        }
    finally:
        await host.stop()


async def on_ray(calls: int) -> dict[str, list[float]]:
    from wranglerpy.bindings.durable_objects.ids import IdFactory, unique_key
    from wranglerpy.bindings.durable_objects.routing import (
        ObjectAddress,
        decode_result,
        encode_call,
    )
    from wranglerpy.ray.objects import RayRouter

    router = RayRouter()
    object_id = IdFactory(unique_key("bench-do", "Counter")).from_name("bench").toString()
    address = ObjectAddress("bench-do", "Counter", object_id, "bench")

    def call(method: str) -> Any:
        async def one() -> Any:
            return decode_result(
                await router.send("bench-do", address, encode_call(method, [], {}))
            )

        return one

    return {"read": await timed(call("read"), calls), "write": await timed(call("write"), calls)}


def main() -> None:
    from wranglerpy.ray.local_cluster import free_port

    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wrp-do-bench-dev-") as scratch:
        dev_took = asyncio.run(dev(Path(scratch), args.calls))  # before the cluster's processes
    print(f"dev done: read {summary(dev_took['read'])}", file=sys.stderr, flush=True)
    with local_cluster(nodes=("node_a",), prefix="wrp-do-bench-") as bench:
        work = bench.work
        (work / "worker.py").write_text(WORKER)
        (work / "wrangler.toml").write_text(CONFIG)
        cli(
            work,
            bench.env,
            "deploy",
            "--target",
            "ray",
            "--ray-address",
            bench.cluster.address,
            "--state-dir",
            str(work / "ray"),
            "--ray-http-port",
            str(free_port()),
            "--ray-proxy",
            "HeadOnly",
        )
        print("deployed to ray", file=sys.stderr, flush=True)
        ray_took = asyncio.run(on_ray(args.calls))
    for kind in ("read", "write"):
        ratio = statistics.median(ray_took[kind]) / statistics.median(dev_took[kind])
        print(
            f"DO RPC {kind}: ray {summary(ray_took[kind])}; dev {summary(dev_took[kind])} "
            f"(ray/dev p50 {ratio:.0f}x)"
        )


if __name__ == "__main__":
    main()
