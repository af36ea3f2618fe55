"""Scheduled (cron) events: the ``scheduled`` handler, run by a cron trigger (a ``SCHEDULED``
frame) or, in ``dev``, by wrangler's test URL."""

from __future__ import annotations

import inspect
from typing import Any

from wranglerpy.runtime.entrypoint import ExecutionContext, relaxed_call
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.loader import LoadedWorker

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


class NoScheduledHandler(LookupError):
    """The worker defines no ``scheduled`` handler."""


async def run_scheduled(
    loaded: LoadedWorker,
    env: Env,
    ctx: ExecutionContext,
    cron: str,
    when: float,
    event: dict[str, Any],
) -> None:
    """Run the ``scheduled`` handler for ``cron`` at ``when`` (ms) and its ``waitUntil`` work."""
    controller = ScheduledController(cron, when)
    event["scheduled"] = {"cron": cron, "scheduledTime": when}
    handler: Any = None
    if loaded.default is not None and hasattr(loaded.default, "scheduled"):
        handler = getattr(loaded.default(ctx, env), "scheduled")  # noqa: B009 - user-defined
    elif loaded.on_scheduled is not None:
        handler = loaded.on_scheduled
    if handler is None:
        raise NoScheduledHandler("This worker has no scheduled handler.")
    result = relaxed_call(handler, controller, env, ctx)
    if inspect.isawaitable(result):
        await result
    await ctx.drain()
