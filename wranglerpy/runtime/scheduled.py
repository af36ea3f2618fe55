"""Scheduled (cron) events: the ``scheduled`` handler, run by a cron trigger (a ``SCHEDULED``
frame) or, in ``dev``, by wrangler's test URL."""

from __future__ import annotations

from typing import Any

from wranglerpy.runtime.entrypoint import ExecutionContext
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.handlers import call_handler
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
    """Run the ``scheduled`` handler for ``cron`` at ``when`` (ms) and its ``waitUntil`` work:
    a ``Default`` method gets exactly ``(controller, env, ctx)`` (not a relaxed call, as in
    workerd); a module-level ``on_scheduled`` (before 2025-08-14) is a relaxed call."""
    controller = ScheduledController(cron, when)
    event["scheduled"] = {"cron": cron, "scheduledTime": when}
    if not await call_handler(loaded, "scheduled", controller, env, ctx):
        raise NoScheduledHandler("Handler does not export a scheduled() function.")
    await ctx.drain()
