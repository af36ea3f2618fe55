"""`workers.asgi`: ``await asgi.fetch(app, request, env, ctx=None)``; ``asgi.env`` is a FastAPI
dependency giving the env (SDK/asgi.py ``__getattr__``); ``asgi.websocket`` needs
``WebSocketPair``, which comes with the Durable Objects work."""

from typing import Any

from wranglerpy.runtime.asgi_lifespan import sdk_fetch as fetch


async def websocket(app: Any, req: Any, env: Any = None) -> Any:
    raise NotImplementedError(
        "asgi.websocket() needs WebSocketPair, which wranglerpy does not provide yet "
        "(docs/fidelity.md)"
    )


def __getattr__(name: str) -> Any:
    if name == "env":
        from fastapi import Depends, Request

        @Depends
        async def env(request: Request) -> Any:
            return request.scope["env"]

        return env
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["fetch", "websocket"]
