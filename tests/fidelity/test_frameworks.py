"""``workers.wsgi`` and ``workers.asgi`` as the SDK runs WSGI and ASGI apps."""

from __future__ import annotations

from typing import Any

import pytest
from workers import Request, asgi, wsgi

FLASK_WORKER = """
from flask import Flask, request
from workers import WorkerEntrypoint, wsgi

app = Flask(__name__)

@app.route("/items/<name>", methods=["GET", "POST"])
def item(name):
    env = request.environ["workers.env"]
    body = request.get_data(as_text=True)
    return {"name": name, "greeting": env.GREETING, "body": body,
            "q": request.args.get("q"), "x": request.headers.get("x-a")}

@app.route("/gone")
def gone():
    return "", 204

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await wsgi.fetch(app, request, self.env)
"""


async def test_flask_through_wsgi_fetch(harness) -> None:
    """SDK/wsgi.py:115-186 (environ: PATH_INFO decoded, QUERY_STRING encoded, workers.env,
    HTTP_ headers) and 245-249 (null-body statuses), 363-380 (fetch)."""
    async with harness.build(FLASK_WORKER) as client:
        response = await client.post(
            "/items/caf%C3%A9?q=a%20b", content=b"payload", headers={"x-a": "1"}
        )
        gone = await client.get("/gone")
    assert response.json() == {
        "name": "café",
        "greeting": "hi",
        "body": "payload",
        "q": "a b",
        "x": "1",
    }
    assert gone.status_code == 204 and gone.content == b""


def test_wsgi_environ_folds_repeated_headers() -> None:
    """SDK/wsgi.py:169-179: repeated headers joined with "," in one HTTP_ key."""
    request = Request("https://example.com/a%20b?x=%20", headers=[("x-a", "1"), ("x-a", "2")])
    environ = wsgi.build_environ(request, {"K": 1}, b"")
    assert environ["PATH_INFO"] == "/a b" and environ["QUERY_STRING"] == "x=%20"
    assert environ["HTTP_X_A"] == "1, 2"  # the JS Headers copy already joins with ", "
    assert environ["SERVER_PORT"] == "443" and environ["workers.env"] == {"K": 1}


class LifespanApp:
    """A raw ASGI app recording its lifespan and echoing scope details."""

    def __init__(self, fail_startup: bool = False) -> None:
        self.events: list[str] = []
        self.fail_startup = fail_startup

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    if self.fail_startup:
                        await send({"type": "lifespan.startup.failed", "message": "no db"})
                        return
                    scope["state"]["db"] = "ready"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = f"{scope['path']}|{scope['raw_path'].decode()}|{scope['state'].get('db')}"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body.encode()})


async def test_asgi_path_is_percent_decoded_and_lifespan_runs_per_request() -> None:
    """SDK/asgi.py:67-70 (path unquoted, raw_path encoded), 88-91 (state copied), 95-176 and
    398-408 (lifespan startup before, shutdown after each fetch)."""
    app = LifespanApp()
    response = await asgi.fetch(app, Request("https://example.com/caf%C3%A9"), {})
    assert await response.text() == "/café|/caf%C3%A9|ready"
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]


async def test_asgi_lifespan_startup_failure_is_an_error() -> None:
    """SDK/asgi.py:128-130: lifespan.startup.failed raises."""
    with pytest.raises(RuntimeError, match="no db"):
        await asgi.fetch(LifespanApp(fail_startup=True), Request("https://example.com/"), {})


async def test_asgi_websocket_through_a_pair() -> None:
    """SDK/asgi.py:320-395 process_websocket: connect first, text and bytes frames, the app's
    sends reach the client end returned in a 101 response, a client close is a disconnect."""
    import asyncio

    seen: list[dict[str, Any]] = []
    finished = asyncio.Event()

    async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket" and scope["path"] == "/ws café"
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] == "websocket.receive":
                if message.get("text") is not None:
                    await send({"type": "websocket.send", "text": message["text"].upper()})
                else:
                    await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})
            elif message["type"] == "websocket.disconnect":
                finished.set()
                return

    response = await asgi.websocket(echo, Request("https://example.com/ws%20caf%C3%A9"), {})
    assert response.status == 101
    client = response.web_socket
    got: list[Any] = []
    replied = asyncio.Event()
    client.addEventListener("message", lambda event: (got.append(event.data), replied.set()))
    client.accept()
    client.send("hi")
    await replied.wait()
    replied.clear()
    client.send(b"\x01\x02")
    await replied.wait()
    client.close(1000, "done")
    await finished.wait()
    assert got[0] == "HI" and bytes(got[1]) == b"\x02\x01"
    assert [m["type"] for m in seen] == [
        "websocket.connect",
        "websocket.receive",
        "websocket.receive",
        "websocket.disconnect",
    ]
    assert seen[2]["bytes"] == b"\x01\x02" and seen[3]["code"] == 1000


async def test_asgi_scope_has_the_sdks_keys_only() -> None:
    """SDK/asgi.py:77-91 (``request_to_scope``: ``env`` is the only Workers key; no ``server``,
    ``client`` or ``root_path``; ``state`` only with lifespan state) and 184-186 (``ctx`` is
    accepted by ``fetch`` but not used): an app that reads ``scope["ctx"]`` or
    ``scope["client"]`` would fail on Cloudflare, so it fails here too."""
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # no lifespan support, as many small apps
        seen.update(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    env = {"GREETING": "hi"}
    response = await asgi.fetch(app, Request("https://example.com/"), env, object())
    assert response.status == 204
    assert seen["env"] is env
    assert set(seen) == {
        "asgi", "headers", "http_version", "method", "scheme", "path", "raw_path",
        "query_string", "type", "env",
    }  # fmt: skip
