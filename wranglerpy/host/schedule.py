"""``[triggers] crons``: each worker's ``scheduled`` handler, at each matching minute (UTC).

One scheduler for ``dev`` and the edge. ``schedule`` replaces a worker's cron tasks, so on the
edge the schedule follows the live version (a deploy or rollback) and in ``dev`` a reload
that changed ``[triggers]``. The ``fire`` callback it is given does the call (dev and the edge
pass one that sends a ``SCHEDULED`` frame with ``fire_cron``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from wranglerpy.host.cron import Cron
from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime.tracing import new_trace_id
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import ScheduledHead

Fire = Callable[[str, str, float], Awaitable[None]]  # (worker, cron, scheduled time in ms)
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CronScheduler:
    def __init__(
        self,
        fire: Fire,
        *,
        clock: Clock = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._fire = fire
        self._clock = clock
        self._sleep = sleep
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}

    def schedule(self, worker: str, expressions: tuple[str, ...]) -> None:
        """Replace ``worker``'s cron tasks with one per expression."""
        self.cancel(worker)
        self._tasks[worker] = [
            asyncio.ensure_future(self._loop(worker, Cron.parse(e))) for e in expressions
        ]

    async def _loop(self, worker: str, cron: Cron) -> None:
        while True:
            now = self._clock()
            due = cron.next_after(now)
            await self._sleep(max(0.0, (due - now).total_seconds()))
            await self._fire(worker, cron.expression, due.timestamp() * 1000)

    def cancel(self, worker: str) -> None:
        for task in self._tasks.pop(worker, []):
            task.cancel()

    def stop(self) -> None:
        for worker in list(self._tasks):
            self.cancel(worker)


async def fire_cron(
    client: FrameClient, hub: LogHub, name: str, cron: str, scheduled_ms: float
) -> None:
    """Send one ``SCHEDULED`` call; a failure is reported on the hub, not raised."""
    head = ScheduledHead(cron=cron, scheduled_time=scheduled_ms, trace=new_trace_id())
    try:
        result = await client.call(head)
    except OSError as exc:
        hub.system(f"✘ cron {cron!r} could not reach {name}: {exc}", worker=name, level="error")
        return
    if not result.ok:
        hub.system(
            f"✘ cron {cron!r} of {name}: {result.error_name}: {result.error_message}",
            worker=name,
            level="error",
        )
