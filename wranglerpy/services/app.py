"""One ASGI app for the services port: ``/v1/...`` is the OpenAI-compatible API, everything
else the S3 API (S3 bucket names have at least 3 characters, so no bucket is called ``v1``)."""

from __future__ import annotations

from typing import Any

from wranglerpy.services.asgi import Receive, Scope, Send
from wranglerpy.services.openai import OpenAIApp
from wranglerpy.services.s3 import create_app as create_s3
from wranglerpy.services.spec import ServicesSpec


class ServicesApp:
    def __init__(self, spec: ServicesSpec, ai: Any = None) -> None:
        self.s3 = create_s3(
            spec.persist_dir, {spec.access_key_id: spec.secret_access_key}, spec.buckets
        )
        self.openai = OpenAIApp(spec.ai_models, ai=ai)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/v1" or path.startswith("/v1/"):
            await self.openai(scope, receive, send)
        else:
            await self.s3(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        self.s3.buckets.close()
