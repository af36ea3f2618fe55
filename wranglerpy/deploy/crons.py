"""``[triggers] crons`` on the edge: each deployed worker's ``scheduled`` handler, on time.

The schedule follows the live version: a deploy or rollback replaces the worker's cron tasks
with those of the version now serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from wranglerpy.supervisor.cron import Cron

Fire = Callable[[str, str, float], Awaitable[None]]  # (worker, cron, scheduled time in ms)
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class EdgeCrons:
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
