"""``env.<QUEUE>``: ``send`` and ``sendBatch``, writing to the shared queue store.

Limits and messages follow miniflare's broker (workers-sdk
packages/miniflare/src/workers/queues/broker.worker.ts: 128 KB per message, 100 messages and
(256 + 32) KB per batch, delays 0..86400 s) and workerd's checks (src/workerd/api/queue.c++:
"Message body cannot be undefined", "sendBatch() requires at least one message").
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from wranglerpy.bindings.queues import codec
from wranglerpy.bindings.queues.store import NewMessage, QueueStore
from wranglerpy.config.queues import MAX_DELAY_SECONDS
from wranglerpy.jsobject import JSObject
from wranglerpy.runtime import tracing

MAX_MESSAGE_BYTES = 128 * 1000
MAX_BATCH_MESSAGES = 100
MAX_BATCH_BYTES = (256 + 32) * 1000


class QueueSendError(Exception):
    """What a failed ``send``/``sendBatch`` raises (a plain ``Error`` in JS)."""


def _options(positional: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    # Python Workers call JS with kwargs turned into a trailing options object, so both
    # send(body, contentType="text") and send(body, {"contentType": "text"}) reach the same.
    merged: dict[str, Any] = {}
    if positional is not None:
        if not isinstance(positional, Mapping):
            raise TypeError("The options argument must be an object.")
        merged.update(positional)
    merged.update(kwargs)
    return merged


def _delay(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise TypeError(
            f"message delay {value!r} is invalid: expected an integer number of seconds"
        )
    if not 0 <= value <= MAX_DELAY_SECONDS:
        raise QueueSendError(
            f"message delay {int(value)} is invalid: must be between 0 and {MAX_DELAY_SECONDS}"
        )
    return float(value)


class QueueProducerBinding:
    """One producer binding: ``queue`` is the queue name, ``delivery_delay`` its default."""

    def __init__(
        self,
        store: QueueStore,
        queue: str,
        delivery_delay: int = 0,
        default_content_type: str = "json",
    ) -> None:
        self._store = store
        self.queue_name = queue
        self._default_delay = float(delivery_delay)
        self._default_type = default_content_type

    def _message(self, body: Any, content_type: Any, delay: Any) -> NewMessage:
        if content_type is None:
            ctype = self._default_type
        else:
            ctype = codec.validate_content_type(content_type)
        data = codec.encode(body, ctype)
        own_delay = _delay(delay)
        return NewMessage(
            id=uuid.uuid4().hex,
            sent_ms=int(time.time() * 1000),
            content_type=ctype,
            body=data,
            delay=self._default_delay if own_delay is None else own_delay,
            trace=tracing.outgoing(),  # the consumer's batch continues the sender's trace
        )

    async def send(self, body: Any = ..., options: Any = None, **kwargs: Any) -> JSObject:
        if body is ...:
            raise TypeError("Message body cannot be undefined")
        opts = _options(options, kwargs)
        message = self._message(body, opts.get("contentType"), opts.get("delaySeconds"))
        if len(message.body) > MAX_MESSAGE_BYTES:
            raise QueueSendError(
                f"Queue send failed: message length of {len(message.body)} bytes exceeds "
                f"limit of {MAX_MESSAGE_BYTES}"
            )
        self._store.enqueue(self.queue_name, [message])
        return JSObject({"metadata": JSObject({"metrics": self._metrics()})})

    async def sendBatch(  # noqa: N802 - Workers' name
        self, messages: Any, options: Any = None, **kwargs: Any
    ) -> JSObject:
        opts = _options(options, kwargs)
        batch_delay = _delay(opts.get("delaySeconds"))
        items = list(messages)
        if not items:
            raise TypeError("sendBatch() requires at least one message")
        built = []
        for item in items:
            if not isinstance(item, Mapping):
                raise TypeError('sendBatch() expects objects like {"body": ...}')
            if "body" not in item:
                raise TypeError("Message body cannot be undefined")
            delay = item.get("delaySeconds")
            built.append(
                self._message(
                    item["body"], item.get("contentType"), batch_delay if delay is None else delay
                )
            )
        if len(built) > MAX_BATCH_MESSAGES:
            raise QueueSendError(
                f"Queue sendBatch failed: batch message count of {len(built)} exceeds limit of "
                f"{MAX_BATCH_MESSAGES}"
            )
        largest = max(len(m.body) for m in built)
        if largest > MAX_MESSAGE_BYTES:
            raise QueueSendError(
                f"Queue sendBatch failed: message in batch has length {largest} bytes which "
                f"exceeds single message size limit of {MAX_MESSAGE_BYTES}"
            )
        total = sum(len(m.body) for m in built)
        if total > MAX_BATCH_BYTES:
            raise QueueSendError(
                f"Queue sendBatch failed: batch size of {total} bytes exceeds limit of "
                f"{MAX_BATCH_BYTES}"
            )
        self._store.enqueue(self.queue_name, built)
        return JSObject({"metadata": JSObject({"metrics": self._metrics()})})

    def _metrics(self) -> JSObject:
        return JSObject({"backlogCount": 0, "backlogBytes": 0, "oldestMessageTimestamp": 0})

    def close(self) -> None:
        self._store.close()

    def __repr__(self) -> str:
        return f"<Queue producer for {self.queue_name!r}>"
