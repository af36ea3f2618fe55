import asyncio

import pytest

from tests.waits import await_until
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import RpcHead, ServiceFetchHead

BASIC = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/boom"):
            raise KeyError("missing thing")
        if request.method == "POST":
            data = await request.json()
            return Response.json({"got": data, "greeting": self.env.GREETING})
        print("handled", request.url)
        return Response("hello " + request.headers.get("x-name", "nobody"))

    async def add(self, a, b):
        return a + b

    async def fail(self):
        raise PermissionError("not allowed")
"""


async def test_fetch_and_request_event(harness):
    async with harness.build(BASIC) as client:
        response = await client.get("/x", headers={"x-name": "ada", "authorization": "secret"})
    assert response.status_code == 200
    assert response.text == "hello ada"
    (event,) = harness.requests()
    assert event["status"] == 200 and event["method"] == "GET" and event["path"] == "/x"
    assert event["headers"]["authorization"] == "REDACTED"
    assert event["logs"][0]["message"] == ["handled http://worker.test/x"]
    assert event["duration_ms"] >= 0


async def test_json_body_and_env(harness):
    async with harness.build(BASIC) as client:
        response = await client.post("/", json={"a": [1, 2]})
    assert response.json() == {"got": {"a": [1, 2]}, "greeting": "hi"}


async def test_exception_is_500_json_for_api_clients_and_html_for_browsers(harness):
    async with harness.build(BASIC) as client:
        api = await client.get("/boom")
        browser = await client.get("/boom", headers={"accept": "text/html"})
    assert api.status_code == 500
    assert api.json()["name"] == "KeyError"
    assert "Traceback" not in api.text
    assert browser.status_code == 500 and "<h1>" in browser.text and "KeyError" in browser.text
    assert harness.requests()[0]["outcome"] == "exception"
    assert harness.requests()[0]["exceptions"][0]["name"] == "KeyError"


async def test_edge_mode_hides_error_details(harness):
    async with harness.build(BASIC, expose_errors=False) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert "missing thing" not in response.text


async def test_rpc_reaches_the_method_directly(harness):
    harness.build(BASIC)
    client = FrameClient(await harness.serve_wire())
    try:
        ok = await client.call(RpcHead(method="add", args=[2, 3], caller="api"))
        err = await client.call(RpcHead(method="fail"))
        private = await client.call(RpcHead(method="_secret"))
        handler = await client.call(RpcHead(method="fetch"))
    finally:
        client.close()
    assert (ok.ok, ok.value) == (True, 5)
    assert (err.ok, err.error_name, err.error_message) == (False, "PermissionError", "not allowed")
    assert private.ok is False and handler.ok is False
    event = harness.requests()[0]
    assert event["rpcMethod"] == "add" and event["caller"] == "api"


async def test_rpc_is_not_reachable_over_plain_http(harness):
    async with harness.build(BASIC) as client:
        response = await client.post("/__wranglerpy/rpc/add", json={"args": [2, 3]})
    assert response.json()["got"] == {"args": [2, 3]}  # answered by fetch, not RPC


async def test_streaming_response(harness):
    source = """
import asyncio

import pytest
from js import ReadableStream, TextEncoder
from pyodide.ffi import create_proxy
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        encoder = TextEncoder.new()
        count = iter(range(3))

        async def pull(controller):
            i = next(count, None)
            if i is None:
                controller.close()
                return
            await asyncio.sleep(0)
            controller.enqueue(encoder.encode(f"data: {i}\\n\\n"))

        stream = ReadableStream.new(pull=create_proxy(pull))
        return Response(stream, headers={"content-type": "text/event-stream"})
"""
    async with harness.build(source) as client:
        response = await client.get("/sse")
    assert response.headers["content-type"] == "text/event-stream"
    assert response.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_wait_until_runs_after_response(harness):
    source = """
import asyncio

import pytest
from workers import WorkerEntrypoint, Response
DONE = []

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        async def later():
            await asyncio.sleep(0.01)
            DONE.append(1)
            print("background done")
        self.ctx.waitUntil(later())
        return Response(str(len(DONE)))
"""
    async with harness.build(source) as client:
        first = await client.get("/")
        second = await client.get("/")
    assert first.text == "0" and second.text == "1"


async def test_old_style_on_fetch(harness):
    source = """
from workers import Response

async def on_fetch(request, env):
    return Response(env.GREETING + " from on_fetch")
"""
    # Module-level handlers only exist before python_no_global_handlers (2025-08-14).
    async with harness.build(source, compatibility_date="2025-08-13") as client:
        response = await client.get("/")
    assert response.text == "hi from on_fetch"


async def test_handlers_get_only_the_arguments_they_take(harness):
    # Cloudflare's own cron example declares ``async def fetch(self)``; Cloudflare drops the
    # arguments a handler does not take, and so must we.
    source = """
from pyodide.code import relaxed_call
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self):
        return Response("no request needed " + str(relaxed_call(lambda a: a, 1, 2)))

    async def scheduled(self, controller, env, ctx):  # not a relaxed call on Cloudflare
        print("cron", controller.cron)
"""
    async with harness.build(source) as client:
        response = await client.get("/")
        ran = await client.get("/cdn-cgi/local/scheduled", params={"cron": "* * * * *"})
    assert response.status_code == 200 and response.text == "no request needed 1"
    assert ran.status_code == 200


async def test_a_typed_array_buffer_is_a_response_body(harness):
    # Cloudflare's Pillow example answers with ``Response(to_js(image_bytes).buffer)``.
    source = """
from pyodide.ffi import to_js
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(to_js(b"\\x89PNG").buffer, headers={"content-type": "image/png"})
"""
    async with harness.build(source) as client:
        response = await client.get("/")
    assert response.status_code == 200 and response.content == b"\x89PNG"


async def test_asgi_app_sees_env(harness):
    source = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = scope["env"].GREETING.encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"""
    async with harness.build(source) as client:
        response = await client.get("/")
    assert response.text == "hi"
    assert harness.requests()[0]["status"] == 200


async def test_load_error_answers_500_with_the_error(harness):
    async with harness.build("def broken(:\n    pass\n") as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert response.json()["error"] == "Worker failed to load"
    assert "SyntaxError" in response.json()["name"] + response.json()["message"]


async def test_module_without_handler_is_a_load_error(harness):
    async with harness.build("x = 1\n") as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert "has no handler" in response.json()["message"]


async def test_scheduled_handler(harness):
    source = """
from workers import WorkerEntrypoint, Response
RUNS = []

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(",".join(RUNS))

    async def scheduled(self, controller, env, ctx):
        RUNS.append(controller.cron)
"""
    async with harness.build(source) as client:
        ran = await client.get("/cdn-cgi/local/scheduled", params={"cron": "*/5 * * * *"})
        seen = await client.get("/")
    assert ran.status_code == 200
    assert seen.text == "*/5 * * * *"
    assert harness.requests()[0]["scheduled"]["cron"] == "*/5 * * * *"


async def test_scheduled_without_a_handler_is_one_line_not_a_traceback(harness):
    """The runtime's own complaint about the worker carries no Python stack (ours, not the
    user's): the tail event and the console get workerd's one line, the caller a 500."""
    source = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("hi")
"""
    async with harness.build(source) as client:
        ran = await client.post("/cdn-cgi/handler/scheduled")
    assert (ran.status_code, ran.text) == (500, "exception")
    (exception,) = harness.requests()[0]["exceptions"]
    assert exception["stack"] == "Error: Handler does not export a scheduled() function."
    assert not any("Traceback" in str(event) for event in harness.sink.events)


async def test_fetch_must_return_a_response(harness):
    source = """
from workers import WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return {"not": "a response"}
"""
    async with harness.build(source) as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert "must return a Response" in response.json()["message"]


async def test_concurrent_requests_keep_their_own_logs(harness):
    source = """
import asyncio

import pytest
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        print("start", request.url)
        await asyncio.sleep(0.01)
        print("end", request.url)
        return Response("ok")
"""
    async with harness.build(source) as client:
        await asyncio.gather(client.get("/a"), client.get("/b"))
    for event in harness.requests():
        assert [log["message"][0].split()[1] for log in event["logs"]] == [event["url"]] * 2


async def test_pyodide_style_worker_runs_unchanged(harness):
    source = """
from js import Response, JSON, console

async def on_fetch(request, env):
    console.log("pyodide style")
    return Response.new(JSON.stringify({"ok": True}), {"status": 201, "headers": {"content-type": "application/json"}})
"""
    async with harness.build(source, compatibility_date="2024-05-06") as client:
        response = await client.get("/")
    assert response.status_code == 201
    assert response.json() == {"ok": True}
    assert harness.requests()[0]["logs"][0]["message"] == ["pyodide style"]


def test_a_javascript_main_is_a_clear_load_error(tmp_path):
    from wranglerpy.runtime.loader import WorkerLoadError, import_worker

    main = tmp_path / "index.ts"
    main.write_text("export default {}")
    with pytest.raises(WorkerLoadError, match="not a Python module"):
        import_worker(main)


async def test_binding_entrypoint_selects_the_class(harness):
    source = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("default")

class Admin(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("admin")
"""
    async with harness.build(source) as http:
        public = await http.get("/", headers={"x-wranglerpy-entrypoint": "Admin"})
    client = FrameClient(await harness.serve_wire())
    try:
        head = ServiceFetchHead(url="http://w/", entrypoint="Admin", caller="api")
        via_binding = await client.fetch(head)
    finally:
        client.close()
    assert via_binding.body == b"admin"
    assert public.text == "default"  # a header from outside means nothing


async def test_quart_app_through_asgi_fetch_sees_env_and_streams(harness):
    source = """
import asgi
from quart import Quart, request
from workers import WorkerEntrypoint

app = Quart(__name__)

@app.post("/echo")
async def echo():
    data = await request.get_json()
    return {"got": data, "greeting": request.scope["env"].GREETING}

@app.get("/stream")
async def stream():
    async def chunks():
        for i in range(3):
            yield f"data: {i}\\n\\n".encode()
    return chunks(), 200, {"content-type": "text/event-stream"}

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)
"""
    async with harness.build(source) as client:
        echoed = await client.post("/echo", json={"a": 1})
        streamed = await client.get("/stream")
    assert echoed.status_code == 200
    assert echoed.json() == {"got": {"a": 1}, "greeting": "hi"}
    assert streamed.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_quart_app_as_main(harness):
    source = """
from quart import Quart, request

app = Quart(__name__)

@app.get("/")
async def index():
    return {"env": request.scope["env"].GREETING}
"""
    async with harness.build(source) as client:
        response = await client.get("/")
    assert response.json() == {"env": "hi"}


async def test_a_huge_print_is_cut_not_fatal(harness):
    source = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        print("x" * 200_000)
        return Response("ok")
"""
    async with harness.build(source) as client:
        response = await client.get("/")
    assert response.text == "ok"
    (log,) = harness.requests()[0]["logs"]
    assert len(log["message"][0]) < 70_000
    assert log["message"][0].endswith("more characters]")


SCHEDULED_WRITER = """
from workers import WorkerEntrypoint, Response
RUNS = []

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("fetch:" + ",".join(RUNS), status=404)

    async def scheduled(self, controller, env, ctx):
        RUNS.append(controller.cron)
"""


async def test_the_scheduled_test_url_is_dev_only(harness):
    """Issue 18 finding 3: on the edge (as on Cloudflare) only cron triggers run scheduled();
    /cdn-cgi/handler/scheduled is wrangler dev's test URL (workers-sdk miniflare
    plugins/core "/cdn-cgi/handler/scheduled" is served by dev only)."""
    async with harness.build(SCHEDULED_WRITER, test_paths=False) as client:
        for url in ("/cdn-cgi/handler/scheduled?cron=evil", "/cdn-cgi/local/scheduled"):
            response = await client.get(url)
            assert response.text == "fetch:"  # the user's fetch answered, nothing ran


CUT_BODY = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        try:
            data = await request.text()
        except Exception as exc:
            print("body error", type(exc).__name__, exc)
            raise
        print("stored", len(data))
        return Response(str(len(data)))
"""


async def test_a_body_cut_short_over_frames_is_an_error_not_a_short_body(harness):
    """Issue 18 finding 2: a cut upload must never look complete (KV/R2 would store it)."""
    import asyncio as _asyncio

    from wranglerpy.wire import frames
    from wranglerpy.wire.frames import FetchHead

    harness.build(CUT_BODY)
    path = await harness.serve_wire()
    reader, writer = await _asyncio.open_unix_connection(path)
    head = FetchHead(method="POST", url="http://w.test/", headers=[], client="127.0.0.1")
    writer.write(head.encode() + frames.frame(frames.DATA, b"x" * 10))
    await writer.drain()
    writer.close()  # the caller leaves mid-body: no END frame
    (event,) = await await_until(harness.requests, "the cut request's event")
    messages = [str(line["message"]) for line in event["logs"]]
    assert any("body error" in m for m in messages), messages
    assert not any("stored" in m for m in messages)
