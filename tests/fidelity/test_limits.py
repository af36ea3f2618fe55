"""``[limits]``: CPU time and subrequests per invocation, failing as on Cloudflare.

References:
- workerd ``src/pyodide/internal/introspection.py:93-102``: a Python Worker over its CPU time
  gets ``SIGXCPU`` and raises ``CpuLimitExceeded("Python Worker exceeded CPU time limit")``, a
  ``BaseException``.
- cloudflare-docs ``workers/platform/limits.mdx`` ("Error: exceeded CPU time limit"): the client
  gets error 1102 ``Worker exceeded resource limits``; the outcome is ``exceededCpu``; I/O waits
  do not count. Limits: CPU 30 s by default on Paid (``cpu_ms`` up to 300,000), subrequests
  10,000 by default (``subrequests`` up to 10,000,000; changelog 2026-02-11).
- workers-sdk ``packages/workers-utils/src/config/environment.ts:1808-1813`` (``UserLimits``:
  ``cpu_ms``, ``subrequests``).
- Subrequest error text as deployed Workers throw it (``Too many subrequests by single Worker
  invocation.``); Cloudflare's miniflare 2 ``packages/shared/src/context.ts:150`` threw the
  same ``Too many subrequests`` error from ``fetch``, redirects and the Cache API.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wranglerpy.config.limits import Limits

BUSY = """
import time
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        started = time.thread_time()
        try:
            while time.thread_time() - started < 5:  # 5 s of CPU, far over the limit
                pass
        except Exception:
            return Response("caught")  # CpuLimitExceeded is not an Exception
        return Response("finished")
"""


async def test_a_busy_handler_is_stopped_with_error_1102(harness) -> None:
    async with harness.build(BUSY, limits=Limits(cpu_ms=50)) as client:
        response = await client.get("/", headers={"accept": "text/html"})
    assert response.status_code == 503
    assert "Error 1102" in response.text and "Worker exceeded resource limits" in response.text
    [event] = harness.requests()
    assert event["outcome"] == "exceededCpu"
    [exception] = event["exceptions"]
    assert exception["name"] == "CpuLimitExceeded"
    assert exception["message"] == "Python Worker exceeded CPU time limit"


async def test_the_answer_for_api_clients_is_json(harness) -> None:
    async with harness.build(BUSY, limits=Limits(cpu_ms=50)) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert response.json() == {"error": "Worker exceeded resource limits", "code": 1102}


SLEEPY = """
import asyncio
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        for _ in range(5):
            await asyncio.sleep(0.1)  # waiting is not CPU time
        return Response("rested")
"""


async def test_waiting_on_io_does_not_count(harness) -> None:
    async with harness.build(SLEEPY, limits=Limits(cpu_ms=100)) as client:
        response = await client.get("/")
    assert response.status_code == 200 and response.text == "rested"


CHUNKED = """
import asyncio, time
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        started = time.thread_time()
        while time.thread_time() - started < 5:
            burst = time.thread_time()
            while time.thread_time() - burst < 0.005:  # 5 ms, under the limit each time
                pass
            await asyncio.sleep(0)
        return Response("finished")
"""


async def test_cpu_time_adds_up_across_awaits(harness) -> None:
    async with harness.build(CHUNKED, limits=Limits(cpu_ms=60)) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert harness.requests()[0]["outcome"] == "exceededCpu"


async def test_each_invocation_has_its_own_budget(harness) -> None:
    source = """
import time
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        started = time.thread_time()
        while time.thread_time() - started < 0.03:  # 30 ms each: 90 ms in all
            pass
        return Response("ok")
"""
    async with harness.build(source, limits=Limits(cpu_ms=60)) as client:
        statuses = [(await client.get("/")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


RPC_BUSY = """
import time
from workers import WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def spin(self):
        started = time.thread_time()
        while time.thread_time() - started < 5:
            pass
"""


async def test_an_rpc_call_over_the_limit_fails_the_call(harness) -> None:
    from wranglerpy.wire.frames import RpcHead

    harness.build(RPC_BUSY, limits=Limits(cpu_ms=50))
    event = harness.app.begin(trace="t", method="RPC", url="rpc://test-worker/spin")
    result = await harness.app._rpc(
        "Default", RpcHead(method="spin", args=[], kwargs={}), harness.app.new_context(), event
    )
    assert not result.ok
    assert (result.error_name, result.error_message) == ("Error", "Worker exceeded resource limits")
    assert event["outcome"] == "exceededCpu"


# ------------------------------------------------------------------------------ subrequests
class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("location", "/")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"hi")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


FETCHES = """
from workers import Response, WorkerEntrypoint, fetch

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        target = request.headers["x-target"]
        done = 0
        try:
            for _ in range(int(request.headers["x-count"])):
                await fetch(target)
                done += 1
        except OSError as exc:  # the JS Error, through pyfetch (SDK fetch.py:34-44)
            return Response(f"{done} {type(exc).__name__}: {exc}")
        return Response(f"{done} ok")
"""


async def test_the_subrequest_past_the_limit_throws(harness, server: str) -> None:
    async with harness.build(FETCHES, limits=Limits(subrequests=3)) as client:
        over = await client.get("/", headers={"x-target": server, "x-count": "4"})
        within = await client.get("/", headers={"x-target": server, "x-count": "3"})
    assert over.text == "3 AbortError: Too many subrequests by single Worker invocation."
    assert within.text == "3 ok"  # the count starts again with each invocation


async def test_a_followed_redirect_counts_as_a_subrequest(harness, server: str) -> None:
    async with harness.build(FETCHES, limits=Limits(subrequests=3)) as client:
        response = await client.get("/", headers={"x-target": server + "/redirect", "x-count": "2"})
    # 1st fetch: 2 subrequests (the redirect and its target); the 2nd fetch's redirect is over.
    assert response.text == "1 AbortError: Too many subrequests by single Worker invocation."


JS_FETCHES = """
import js
from pyodide.ffi import JsException
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        try:
            for _ in range(2):
                await js.fetch(request.headers["x-target"])
        except JsException as exc:
            return Response(f"{exc.name}: {exc.message}")
        return Response("ok")
"""


async def test_the_js_fetch_throws_a_js_error(harness, server: str) -> None:
    async with harness.build(JS_FETCHES, limits=Limits(subrequests=1)) as client:
        response = await client.get("/", headers={"x-target": server})
    assert response.text == "Error: Too many subrequests by single Worker invocation."


# --------------------------------------------------------------- binding calls as subrequests
BINDINGS_TOML = """
name = "counted"
main = "worker.py"
compatibility_date = "2025-09-01"

[[kv_namespaces]]
binding = "KV"
id = "kv-1"

[[d1_databases]]
binding = "DB"
database_name = "db"
database_id = "db-1"

[[r2_buckets]]
binding = "BUCKET"
bucket_name = "bucket"

[[analytics_engine_datasets]]
binding = "AE"
dataset = "events"
"""

BINDING_CALLS = """
from pyodide.ffi import JsException
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        steps = []
        try:
            self.env.AE.writeDataPoint({"blobs": ["a"]})  # not a subrequest
            steps.append("ae")
            await self.env.KV.put("k", "v")  # 1
            steps.append("kv")
            await self.env.BUCKET.put("o", b"body")  # 2
            obj = await self.env.BUCKET.get("o")  # 3
            await obj.text()  # reading what was fetched: not a subrequest
            steps.append("r2")
            statement = self.env.DB.prepare("SELECT 1 AS one")  # preparing: not a call yet
            await statement.first()  # 4
            steps.append("d1")
            await statement.all()  # 5: over a limit of 4
            steps.append("d1 again")
        except JsException as exc:
            return Response(f"{' '.join(steps)} | {exc.name}: {exc.message}")
        return Response(" ".join(steps))
"""


def _env_with_bindings(tmp_path):
    from wranglerpy.config.load import load_worker
    from wranglerpy.runtime.child import build_env
    from wranglerpy.runtime.spec import WorkerSpec

    folder = tmp_path / "bindings"
    folder.mkdir()
    (folder / "wrangler.toml").write_text(BINDINGS_TOML)
    (folder / "worker.py").write_text("")
    config = load_worker(folder / "wrangler.toml")
    return build_env(
        WorkerSpec(
            config=config, persist_dir=tmp_path / "state", registry_dir=tmp_path / "registry"
        )
    )


async def test_binding_calls_are_subrequests(harness, tmp_path) -> None:
    """KV (workerd api/kv.c++:110-122), R2 (api/r2-bucket.c++:41-60) and D1 (the Fetcher of
    cloudflare/internal/d1-api.ts:361) open a subrequest per call (io/io-context.c++:1066-1070);
    an Analytics Engine write does not (api/analytics-engine.c++:17); reading an R2 body already
    fetched is not a new call."""
    env = _env_with_bindings(tmp_path)
    async with harness.build(BINDING_CALLS, env=env, limits=Limits(subrequests=4)) as client:
        over = await client.get("/")
    async with harness.build(BINDING_CALLS, env=env, limits=Limits(subrequests=5)) as client:
        within = await client.get("/")
    assert over.text == "ae kv r2 d1 | Error: Too many subrequests by single Worker invocation."
    assert within.text == "ae kv r2 d1 d1 again"


ASSET_CALLS = """
from pyodide.ffi import JsException
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        steps = []
        try:
            for _ in range(3):
                answer = await self.env.ASSETS.fetch("http://assets.local/hello.txt")
                steps.append(await answer.text())  # the body of a fetched asset: no new call
        except JsException as exc:
            return Response(f"{' '.join(steps)} | {exc.name}: {exc.message}")
        return Response(" ".join(steps))
"""


async def test_assets_fetches_are_subrequests(harness, tmp_path) -> None:
    """``env.ASSETS`` is a service binding to the assets worker (miniflare
    plugins/assets/index.ts:105-112), i.e. a ``Fetcher``, whose ``fetch`` opens a subrequest
    channel (workerd api/http.c++:2510-2516) that ``LimitEnforcer::newSubrequest`` counts
    (io/io-context.c++:1066-1070)."""
    from wranglerpy.config.load import load_worker
    from wranglerpy.runtime.child import build_env
    from wranglerpy.runtime.spec import WorkerSpec

    folder = tmp_path / "site"
    (folder / "public").mkdir(parents=True)
    (folder / "public" / "hello.txt").write_text("hi")
    (folder / "worker.py").write_text("")
    (folder / "wrangler.toml").write_text(
        'name = "site"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n\n'
        '[assets]\ndirectory = "public"\nbinding = "ASSETS"\n'
    )
    spec = WorkerSpec(
        config=load_worker(folder / "wrangler.toml"),
        persist_dir=tmp_path / "state",
        registry_dir=tmp_path / "registry",
    )
    env = build_env(spec)
    async with harness.build(ASSET_CALLS, env=env, limits=Limits(subrequests=2)) as client:
        over = await client.get("/")
    async with harness.build(ASSET_CALLS, env=env, limits=Limits(subrequests=3)) as client:
        within = await client.get("/")
    assert over.text == "hi hi | Error: Too many subrequests by single Worker invocation."
    assert within.text == "hi hi hi"


# ------------------------------------------------- CPU time outside the handler's own steps
SPAWNED = """
import asyncio, time
from workers import Response, WorkerEntrypoint

def spin(seconds):
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass

async def burn():
    await asyncio.sleep(0)
    spin(5)

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/task"):
            await asyncio.gather(asyncio.create_task(burn()))
            return Response("finished")
        if request.url.endswith("/wait-until"):
            self.ctx.waitUntil(burn())
            return Response("answered")
        return Response("?")
"""


async def test_cpu_time_of_a_task_the_handler_starts_counts(harness) -> None:
    """Cloudflare meters all of the isolate's CPU time for an invocation (cloudflare-docs
    ``workers/platform/limits.mdx`` "CPU time"), so work in a task it starts counts."""
    async with harness.build(SPAWNED, limits=Limits(cpu_ms=50)) as client:
        response = await client.get("/task")
    assert response.status_code == 503
    [event] = harness.requests()
    assert event["outcome"] == "exceededCpu"


async def test_cpu_time_of_wait_until_work_counts(harness) -> None:
    """``ctx.waitUntil`` work runs in the same invocation after the response (limits.mdx "CPU
    time"): over the budget, the invocation's outcome is ``exceededCpu``."""
    async with harness.build(SPAWNED, limits=Limits(cpu_ms=50)) as client:
        response = await client.get("/wait-until")
    assert response.status_code == 200 and response.text == "answered"
    [event] = harness.requests()
    assert event["outcome"] == "exceededCpu"
    logs = [e for e in harness.sink.events if e["type"] == "log"]
    assert any("Python Worker exceeded CPU time limit" in e["message"] for e in logs)


STREAMED = """
import time
from js import ReadableStream
from pyodide.ffi import to_js
from workers import Response, WorkerEntrypoint

class Source:
    def __init__(self):
        self.sent = 0

    def pull(self, controller):
        self.sent += 1
        if self.sent == 1:
            controller.enqueue(to_js(b"first chunk"))
            return
        started = time.thread_time()
        while time.thread_time() - started < 5:  # after the handler returned
            pass
        controller.enqueue(to_js(b"never sent"))

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(ReadableStream.new(Source()))
"""


async def test_cpu_time_of_a_body_streamed_after_the_handler_returned_counts(harness) -> None:
    """A stream's ``pull`` runs in the invocation after the handler returned; over the budget
    the response is cut (limits.mdx "CPU time")."""
    from wranglerpy.wire.client import FrameClient
    from wranglerpy.wire.frames import FetchHead, FrameError

    harness.build(STREAMED, limits=Limits(cpu_ms=50))
    client = FrameClient(await harness.serve_wire())
    received = []
    try:
        answer = await client.fetch(FetchHead(method="GET", url="http://w/", headers=[]))
        assert answer.head.status == 200
        with pytest.raises(FrameError):
            async for chunk in answer.chunks():
                received.append(chunk)
    finally:
        client.close()
    assert received == [b"first chunk"]  # then cut: no END frame, the connection closed
    [event] = harness.requests()
    assert event["outcome"] == "exceededCpu"


# ------------------------------------------------ Durable Object events are invocations too
