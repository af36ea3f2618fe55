"""Scheduled (cron) events: the ``scheduled`` handler, run by a trigger or a test URL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from wranglerpy.runtime.entrypoint import ExecutionContext
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.handlers import call_handler
from wranglerpy.runtime.loader import LoadedWorker
from wranglerpy.runtime.messages import Response

# wranglerpy's path, plus the two wrangler has used, so existing scripts keep working.
SCHEDULED_PATHS = frozenset(
    {"/cdn-cgi/local/scheduled", "/cdn-cgi/handler/scheduled", "/__scheduled"}
)


class ScheduledController:
    """What a ``scheduled`` handler receives: ``cron``, ``scheduledTime`` (ms) and ``noRetry``."""

    def __init__(self, cron: str, scheduled_time: float) -> None:
        self.cron = cron
        self.scheduledTime = scheduled_time
        self.type = "scheduled"
        self.retry = True

    def noRetry(self) -> None:  # noqa: N802 - Workers' name
        self.retry = False


async def run_scheduled(
    loaded: LoadedWorker,
    env: Env,
    ctx: ExecutionContext,
    scope: dict[str, Any],
    event: dict[str, Any],
    on_error: Callable[[BaseException], None] | None = None,
) -> Response:
    """Answer ``/cdn-cgi/handler/scheduled`` as wrangler dev does: the outcome as text,
    ``ok`` (200) or ``exception`` (500)."""
    query = parse_qs(scope.get("query_string", b"").decode())
    cron = (query.get("cron") or [""])[0]
    when = float((query.get("time") or [time.time() * 1000])[0])
    controller = ScheduledController(cron, when)
    event["scheduled"] = {"cron": cron, "scheduledTime": when}
    try:
        found = await call_handler(loaded, "scheduled", controller, env, ctx)
        if not found:
            raise TypeError("Handler does not export a scheduled() function.")
    except Exception as exc:  # noqa: BLE001 - the user's failure is the outcome
        if on_error is not None:
            on_error(exc)
        await ctx.drain()
        return Response("exception", status=500)
    await ctx.drain()
    return Response("ok")
