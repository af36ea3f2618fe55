"""ASGI lifespan as Cloudflare's SDK runs it for ``asgi.fetch`` (``SDK/asgi.py``
``start_application``): a startup before the request and a shutdown after it, each time; an
app without lifespan support is served anyway; ``lifespan.startup.failed`` is an error; the
lifespan ``state`` is shallow-copied into each request's scope."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger("asgi")

Shutdown = Callable[[], Awaitable[None]]


async def start_application(app: Any) -> tuple[Shutdown, dict[str, Any] | None]:
    """Run the app's lifespan startup; return its shutdown and its state (None without
    lifespan support)."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    started: asyncio.Future[bool] = loop.create_future()
    stopped: asyncio.Future[None] = loop.create_future()
    state: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return await to_app.get()

    async def send(message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            started.set_result(True)
        elif kind == "lifespan.startup.failed":
            started.set_exception(
                RuntimeError(message.get("message", "ASGI lifespan startup failed"))
            )
        elif kind == "lifespan.shutdown.complete":
            stopped.set_result(None)
        elif kind == "lifespan.shutdown.failed":
            stopped.set_exception(
                RuntimeError(message.get("message", "ASGI lifespan shutdown failed"))
            )
        else:
            raise RuntimeError(f"Unexpected lifespan event {kind}")

    async def run() -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = state
        try:
            await app(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - no lifespan support: serve without it
            if not started.done():
                started.set_result(False)
            elif not stopped.done():
                logger.exception("Exception in ASGI lifespan application", exc_info=exc)
                stopped.set_result(None)
            return
        if not started.done():
            started.set_result(False)
        if not stopped.done():
            stopped.set_result(None)

    task = asyncio.ensure_future(run())
    await to_app.put({"type": "lifespan.startup"})
    supported = await started

    async def shutdown() -> None:
        if supported:
            await to_app.put({"type": "lifespan.shutdown"})
            await stopped
        await task

    async def nothing() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    if not supported:
        return nothing, None
    return shutdown, state


async def sdk_fetch(app: Any, request: Any, env: Any, ctx: Any = None) -> Any:
    """``workers.asgi.fetch``: the app's lifespan startup, the request, then its shutdown,
    each time, as the SDK runs them (SDK/asgi.py ``fetch``)."""
    from wranglerpy.runtime.asgi_bridge import fetch

    shutdown, state = await start_application(app)
    response = await fetch(app, request, env, ctx, state)
    await shutdown()
    return response
