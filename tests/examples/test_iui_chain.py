"""Both workers loaded by the runtime's own loader and app, chained in one process: the API
worker's STREAMING binding calls the streaming worker's ASGI app. (The real processes and
sockets are covered by the ``wranglerpy dev`` integration tests.)"""

from __future__ import annotations

import json
from typing import Any

from wranglerpy.config.schema import Assets
from wranglerpy.runtime import asgi_bridge
from wranglerpy.runtime.app import WorkerApp
from wranglerpy.runtime.assets import AssetServer
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.events import ListEventSink
from wranglerpy.runtime.loader import import_worker
from wranglerpy.runtime.request_response import Request, Response

from iui_fakes import EXAMPLE, FakeEnv, call_asgi, run, sse_events


class InProcessService:
    def __init__(self, app: WorkerApp) -> None:
        self.app = app

    async def fetch(self, url: str, *, method: str, headers: Any, body: Any) -> Response:
        request = Request(url, method=method, headers=headers, body=body)
        return await asgi_bridge.fetch(self.app, request, None)


def chain(env: FakeEnv) -> WorkerApp:
    shared = {"DB": env.DB, "KV": env.KV, "ANALYTICS": env.ANALYTICS, "AI": env.AI}
    sink = ListEventSink()
    streaming = WorkerApp(
        "inference-ui-streaming",
        Env({**shared, "ENVIRONMENT": "development"}),
        import_worker(EXAMPLE / "src" / "streaming_worker.py"),
        sink,
    )
    api_loaded = import_worker(EXAMPLE / "src" / "api_worker.py")
    # The Quart app is served by Default.fetch through workers.asgi, as on Cloudflare.
    assert "Default" in api_loaded.entrypoints and api_loaded.asgi_app is None
    return WorkerApp(
        "inference-ui-api",
        Env(
            {
                **shared,
                "STREAMING": InProcessService(streaming),
                "ENVIRONMENT": "development",
                "API_VERSION": "1.0.0",
            }
        ),
        api_loaded,
        sink,
        assets=AssetServer(Assets(directory=EXAMPLE / "public")),
    )


def test_index_stays_json_and_the_chat_page_is_an_asset(env: FakeEnv) -> None:
    api = chain(env)
    status, headers, body = run(call_asgi(api, "GET", "/", env=None))
    assert status == 200 and json.loads(b"".join(body))["name"] == "inference-ui-api"
    for path in ("/chat/", "/chat/chat.js", "/chat/chat.css"):
        status, headers, _ = run(call_asgi(api, "GET", path, env=None))
        assert status == 200, path
    status, headers, body = run(call_asgi(api, "GET", "/chat/", env=None))
    assert headers["content-type"].startswith("text/html") and b"/chat/chat.js" in b"".join(body)


def test_chat_through_the_chain(env: FakeEnv) -> None:
    api = chain(env)
    payload = json.dumps(
        {"messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}]}
    )
    status, headers, chunks = run(
        call_asgi(
            api,
            "POST",
            "/stream/chat",
            env=None,
            body=payload.encode(),
            headers={"content-type": "application/json"},
        )
    )
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = sse_events(b"".join(chunks))
    assert [e["type"] for e in events][0] == "message-start"
    assert events[-2]["message"]["parts"][0]["text"] == "Hello there!"
    assert len(chunks) >= len(events)  # streamed event by event, not in one piece
    status, _, body = run(call_asgi(api, "GET", "/stream/health", env=None))
    assert status == 200 and json.loads(b"".join(body))["worker"] == "streaming"
