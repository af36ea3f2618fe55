"""What a ``queue`` handler receives: a ``MessageBatch`` of ``Message`` objects.

The ack/retry bookkeeping and its warnings follow workerd src/workerd/api/queue.c++
(``QueueMessage::ack``/``retry``, ``QueueEvent::ackAll``/``retryAll``): the first decision
about a message wins, and a conflicting later call logs a warning and changes nothing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wranglerpy.bindings.queues import codec
from wranglerpy.bindings.queues.store import StoredMessage
from wranglerpy.config.queues import MAX_DELAY_SECONDS


def _retry_delay(options: Any, kwargs: dict[str, Any]) -> float | None:
    merged: dict[str, Any] = dict(options) if isinstance(options, Mapping) else {}
    merged.update(kwargs)
    value = merged.get("delaySeconds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"delaySeconds must be a number of seconds, got {value!r}")
    if not 0 <= value <= MAX_DELAY_SECONDS:
        raise ValueError(f"delaySeconds must be between 0 and {MAX_DELAY_SECONDS}, got {value}")
    return float(value)


@dataclass
class BatchResult:
    """The handler's decisions about one batch."""

    ack_all: bool = False
    retry_all: bool = False
    retry_all_delay: float | None = None
    acks: set[str] = field(default_factory=set)
    retries: dict[str, float | None] = field(default_factory=dict)


class Message:
    """One delivered message: ``id``, ``timestamp``, ``body``, ``attempts``, ``ack()``,
    ``retry()``."""

    def __init__(self, stored: StoredMessage, result: BatchResult, warn: Callable[[str], None]):
        self.id = stored.id
        self.timestamp = _dt.datetime.fromtimestamp(stored.sent_ms / 1000, tz=_dt.timezone.utc)
        self.attempts = stored.attempts
        self.body = codec.decode(stored.body, stored.content_type)
        self._result = result
        self._warn = warn

    def ack(self) -> None:
        r = self._result
        if r.ack_all:
            return
        if r.retry_all:
            self._warn(
                f"Received a call to ack() on message {self.id} after retryAll() was already "
                "called. Calling ack() on a message after calling retryAll() has no effect."
            )
            return
        if self.id in r.retries:
            self._warn(
                f"Received a call to ack() on message {self.id} after retry() was already "
                "called. Calling ack() on a message after calling retry() has no effect."
            )
            return
        r.acks.add(self.id)

    def retry(self, options: Any = None, **kwargs: Any) -> None:
        delay = _retry_delay(options, kwargs)
        r = self._result
        if r.ack_all:
            self._warn(
                f"Received a call to retry() on message {self.id} after ackAll() was already "
                "called. Calling retry() on a message after calling ackAll() has no effect."
            )
            return
        if self.id in r.acks:
            self._warn(
                f"Received a call to retry() on message {self.id} after ack() was already "
                "called. Calling retry() on a message after calling ack() has no effect."
            )
            return
        r.retries[self.id] = delay

    def __repr__(self) -> str:
        return f"<Message {self.id} attempts={self.attempts}>"


class MessageBatch:
    """``batch.queue``, ``batch.messages``, ``batch.ackAll()``, ``batch.retryAll()``."""

    def __init__(
        self,
        queue: str,
        stored: list[StoredMessage],
        warn: Callable[[str], None],
        backlog: int = 0,
    ) -> None:
        self.queue = queue
        self.result = BatchResult()
        self._warn = warn
        self.messages = [Message(m, self.result, warn) for m in stored]
        self.metadata = {"metrics": {"backlogCount": backlog, "backlogBytes": 0}}

    def ackAll(self) -> None:  # noqa: N802 - Workers' name
        if self.result.retry_all:
            self._warn(
                "Received a call to ackAll() after retryAll() was already called. "
                "Calling ackAll() after calling retryAll() has no effect."
            )
            return
        self.result.ack_all = True

    def retryAll(self, options: Any = None, **kwargs: Any) -> None:  # noqa: N802
        delay = _retry_delay(options, kwargs)
        if self.result.ack_all:
            self._warn(
                "Received a call to retryAll() after ackAll() was already called. "
                "Calling retryAll() after calling ackAll() has no effect."
            )
            return
        self.result.retry_all = True
        self.result.retry_all_delay = delay

    def decide(self, handler_failed: bool, retry_delay: float) -> tuple[set[str], dict[str, float]]:
        """The ids to delete and the ids to retry (with their delays) once the handler is done.

        A message acked explicitly stays acked even if the handler then throws (Cloudflare's
        documented rule); otherwise a thrown handler or ``retryAll`` retries every message.
        """
        r = self.result
        acked: set[str] = set()
        retried: dict[str, float] = {}
        default_delay = retry_delay if r.retry_all_delay is None else r.retry_all_delay
        for message in self.messages:
            mid = message.id
            if r.ack_all or mid in r.acks:
                acked.add(mid)
            elif mid in r.retries:
                own = r.retries[mid]
                retried[mid] = default_delay if own is None else own
            elif r.retry_all or handler_failed:
                retried[mid] = default_delay
            else:
                acked.add(mid)
        return acked, retried
