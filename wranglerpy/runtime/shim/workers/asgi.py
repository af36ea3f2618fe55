"""`workers.asgi`: ``await asgi.fetch(app, request, env, ctx=None)``,
``await asgi.websocket(app, request, env)``; ``asgi.env`` is a FastAPI dependency giving the
env (SDK/asgi.py ``__getattr__``)."""

from typing import Any

from wranglerpy.runtime.asgi_lifespan import sdk_fetch as fetch
from wranglerpy.runtime.asgi_websocket import websocket


def __getattr__(name: str) -> Any:
    if name == "env":
        from fastapi import Depends, Request

        @Depends
        async def env(request: Request) -> Any:
            return request.scope["env"]

        return env
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["fetch", "websocket"]
