"""One queue for every worker's events, one writer: the printer and tail subscribers read it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
Subscriber = Callable[[Event], None]


class LogHub:
    """Fan-out of events to subscribers, in arrival order, from the supervisor's loop."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # noqa: BLE001 - one broken subscriber must not silence the rest
                self._subscribers.remove(subscriber)

    def system(self, message: str, *, worker: str | None = None, level: str = "info") -> None:
        """A message from wranglerpy itself (reloads, readiness, errors)."""
        self.publish({"type": "system", "worker": worker, "level": level, "message": message})


class QueueSubscriber:
    """Buffers events for an async consumer (tail streams) without blocking the hub."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
