"""One ASGI app for the services port: ``/v1/...`` is the OpenAI-compatible API,
``/_dashboard/...`` the local dashboard, everything else the S3 API (S3 bucket names have at
least 3 characters and no ``_``, so no bucket is called ``v1`` or ``_dashboard``)."""

from __future__ import annotations

from typing import Any

from wranglerpy.services.asgi import Receive, Scope, Send
from wranglerpy.services.dashboard.app import PREFIX as DASHBOARD
from wranglerpy.services.dashboard.app import DashboardApp
from wranglerpy.services.openai import OpenAIApp
from wranglerpy.services.s3 import create_app as create_s3
from wranglerpy.services.spec import ServicesSpec


class ServicesApp:
    def __init__(self, spec: ServicesSpec, ai: Any = None) -> None:
        self.s3 = create_s3(
            spec.persist_dir, {spec.access_key_id: spec.secret_access_key}, spec.buckets
        )
        self.openai = OpenAIApp(spec.ai_models, ai=ai)
        self.dashboard = DashboardApp(spec, self.s3.buckets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/v1" or path.startswith("/v1/"):
            await self.openai(scope, receive, send)
        elif path == DASHBOARD or path.startswith(DASHBOARD + "/"):
            await self.dashboard(scope, receive, send)
        elif path == "/" and _browser(scope):
            await _redirect(send, DASHBOARD + "/")
        else:
            await self.s3(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.dashboard.stop()
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        self.s3.buckets.close()


def _browser(scope: Scope) -> bool:
    """A browser opening the bare address (not an S3 client: those always sign, in a header
    or in the query), so ``/`` can lead to the dashboard."""
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    return (
        scope.get("method") == "GET"
        and not scope.get("query_string")
        and b"authorization" not in headers
        and b"text/html" in headers.get(b"accept", b"")
    )


async def _redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
