"""Scheduled (cron) events: the ``scheduled`` handler, run by a trigger or a test URL."""

from __future__ import annotations

import inspect
import time
from typing import Any
from urllib.parse import parse_qs

from wranglerpy.runtime.entrypoint import ExecutionContext
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.loader import LoadedWorker
from wranglerpy.runtime.messages import Response
from wranglerpy.runtime.relaxed import relaxed_call

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
) -> Response:
    query = parse_qs(scope.get("query_string", b"").decode())
    cron = (query.get("cron") or [""])[0]
    when = float((query.get("time") or [time.time() * 1000])[0])
    controller = ScheduledController(cron, when)
    event["scheduled"] = {"cron": cron, "scheduledTime": when}
    handler: Any = None
    if loaded.default is not None and hasattr(loaded.default, "scheduled"):
        handler = getattr(loaded.default(ctx, env), "scheduled")  # noqa: B009 - user-defined
        args: tuple[Any, ...] = (controller, env, ctx)
    elif loaded.on_scheduled is not None:
        handler = loaded.on_scheduled
        args = (controller, env, ctx)
    if handler is None:
        return Response("This worker has no scheduled handler.", status=404)
    result = relaxed_call(handler, *args)
    if inspect.isawaitable(result):
        await result
    await ctx.drain()
    return Response("Ran scheduled event")
