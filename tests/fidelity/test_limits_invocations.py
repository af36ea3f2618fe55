"""[limits] for Durable Object calls, queue batches and stub URLs: each its own invocation.

The references are those of ``test_limits.py``; each test names its own.
"""

from __future__ import annotations

import pytest

from wranglerpy.config.limits import Limits

DO_TOML = """
name = "limits-do"
main = "worker.py"
compatibility_date = "2025-09-01"

[[kv_namespaces]]
binding = "KV"
id = "kv-1"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""

DO_WORKER = """
import time
from workers import DurableObject, Response, WorkerEntrypoint

def spin(seconds):
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass

class Counter(DurableObject):
    async def fetch(self, request):
        return Response(request.url)

    async def work(self, seconds):
        spin(seconds)
        return "done"

    async def reads(self, count):
        for _ in range(count):
            await self.env.KV.get("k")
        return count

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        stub = self.env.COUNTER.getByName("a")
        path = request.url.rsplit("/", 1)[-1]
        try:
            if path == "split":  # 40 ms here and 40 ms in the object: two budgets of 60
                spin(0.04)
                return Response(await stub.work(0.04))
            if path == "over":
                return Response(await stub.work(5))
            if path.startswith("relative"):
                try:
                    return Response(await (await stub.fetch("/x?y=1")).text())
                except OSError as exc:  # pyfetch's AbortError
                    return Response(f"{type(exc).__name__}: {exc}")
            if path == "reads":  # 2 subrequests here, 3 in the object: two budgets of 3
                await self.env.KV.get("k")
                return Response(str(await stub.reads(3)))
        except Exception as exc:
            return Response(f"{type(exc).__name__}: {exc}")
        return Response("?")

    on_fetch = fetch  # its name before 2025-08-14 (python-entrypoint-helper.ts:418-426)
"""


@pytest.fixture
async def do_app(harness, tmp_path, request):
    """The harness worker with a real Durable Object binding (built as a worker process does)."""
    from wranglerpy.bindings.durable_objects import _HOSTS, attach
    from wranglerpy.config.load import load_worker
    from wranglerpy.runtime.child import build_env
    from wranglerpy.runtime.spec import WorkerSpec

    folder = tmp_path / "do"
    folder.mkdir()
    (folder / "wrangler.toml").write_text(DO_TOML)
    (folder / "worker.py").write_text("")
    config = load_worker(folder / "wrangler.toml")
    object.__setattr__(config, "limits", Limits(cpu_ms=60, subrequests=3))
    spec = WorkerSpec(config=config, persist_dir=tmp_path / "state", registry_dir=tmp_path / "r")
    env = build_env(spec)
    date = getattr(request, "param", None)
    client = harness.build(DO_WORKER, env=env, limits=config.limits, compatibility_date=date)
    attach(config.name, env, harness.app.loaded.module)
    try:
        yield client
    finally:
        host = _HOSTS.pop(config.name)
        await host.stop()


async def test_a_durable_object_call_has_its_own_budget(do_app, harness) -> None:
    """Durable Objects are Workers: their limits apply per request to the object
    (developers.cloudflare.com/durable-objects/platform/limits/: "Workers limits also apply";
    "CPU per request"); each call through a stub is a subrequest of the caller (workerd
    ``api/actor.c++:49-58``) and starts its own invocation in the object."""
    async with do_app as client:
        split = await client.get("/split")
        reads = await client.get("/reads")
    assert split.text == "done"  # 80 ms in all, under 60 ms on each side
    assert reads.text == "3"  # the caller: 1 KV read + 1 stub call; the object: 3 KV reads


async def test_a_durable_object_over_its_cpu_limit_fails_the_call(do_app, harness) -> None:
    """The object is stopped and reset; the caller's call throws (its own budget is intact)."""
    async with do_app as client:
        over = await client.get("/over")
    assert over.text == "Error: Worker exceeded resource limits"
    assert harness.requests()[-1]["outcome"] == "ok"  # the caller goes on


QUEUE_WORKER = """
import time
from workers import WorkerEntrypoint

handled = []

class Default(WorkerEntrypoint):
    async def queue(self, batch):
        handled.append(len(batch.messages))
        started = time.thread_time()
        while time.thread_time() - started < 5:
            pass
"""


async def test_a_queue_batch_over_its_cpu_limit_fails_and_is_retried(harness) -> None:
    """A queue consumer invocation has the worker's limits (developers.cloudflare.com/queues/
    platform/limits/: consumer Workers "share the same per invocation CPU limits as any Workers
    do"); a batch whose handler is stopped fails, so its messages are retried."""
    from wranglerpy.bindings.queues.batch import MessageBatch
    from wranglerpy.bindings.queues.runner import make_handler
    from wranglerpy.runtime.limits import ExceededCpu

    harness.build(QUEUE_WORKER, limits=Limits(cpu_ms=50))
    handler = make_handler(harness.app)
    with pytest.raises(ExceededCpu, match="Python Worker exceeded CPU time limit"):
        await handler(MessageBatch("jobs", [], warn=lambda message: None))
    assert harness.app.loaded.module.handled == [0]


@pytest.mark.parametrize(
    ("do_app", "answer"),
    [
        ("2021-11-09", "https://fake-host/x?y=1"),
        ("2021-11-10", "AbortError: Fetch API cannot load: /x?y=1"),
        ("2024-06-03", "AbortError: Invalid URL: /x?y=1"),
    ],
    indirect=["do_app"],
)
async def test_a_stubs_relative_url_by_compatibility_date(do_app, answer: str) -> None:
    """workerd ``compatibility-date.capnp:103-108`` (``durable_object_fetch_requires_full_url``
    from 2021-11-10): before, a stub resolved ``/x`` against ``https://fake-host/``
    (``api/actor.c++:247-249``, ``api/http.c++:2577-2584``); after, the legacy parser refuses it
    (``Fetch API cannot load``); with ``fetch_standard_url`` (2024-06-03) the ``Request``
    constructor does first (``api/http.c++:353-356``). Python sees pyfetch's ``AbortError``
    (SDK ``_workers.py:1030-1031``)."""
    async with do_app as client:
        response = await client.get("/relative")
    assert response.text == answer
