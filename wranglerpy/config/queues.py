"""``queues.producers`` and ``queues.consumers``: parsed into frozen dataclasses.

Defaults and bounds follow Cloudflare's consumer settings (batch size 10, batch timeout 5 s,
3 retries; see developers.cloudflare.com/queues/configuration/batching-retries) and the limits
miniflare validates (workers-sdk packages/miniflare/src/workers/queues/schemas.ts: batch size
<= 100, timeout <= 60 s, retries <= 100, delays 0..86400 s).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from wranglerpy.config.compat_date import effective_date
from wranglerpy.config.fields import Reader, join

MAX_DELAY_SECONDS = 86_400
_PRODUCER_KEYS = ("binding", "queue", "delivery_delay", "remote", "experimental_remote")
_CONSUMER_KEYS = (
    "queue",
    "type",
    "max_batch_size",
    "max_batch_timeout",
    "max_retries",
    "dead_letter_queue",
    "max_concurrency",
    "retry_delay",
    "visibility_timeout_ms",
)


@dataclass(frozen=True)
class QueueProducer:
    """One ``queues.producers`` entry: ``env.<binding>`` sends to ``queue``."""

    binding: str
    queue: str
    delivery_delay: int = 0
    # What send() uses without contentType: "json" from compatibility date 2024-03-18 (or with
    # the queues_json_messages flag), "v8" before (workerd compatibility-date.capnp).
    default_content_type: str = "json"


@dataclass(frozen=True)
class QueueConsumer:
    """One ``queues.consumers`` entry: this worker's ``queue`` handler receives ``queue``."""

    queue: str
    max_batch_size: int = 10
    max_batch_timeout: float = 5.0
    max_retries: int = 3
    dead_letter_queue: str | None = None
    retry_delay: int = 0
    max_concurrency: int | None = None  # None: as many batches at once as there are


JSON_MESSAGES_DATE = "2024-03-18"


def with_compatibility(
    producers: tuple[QueueProducer, ...], flags: tuple[str, ...], date: str | None
) -> tuple[QueueProducer, ...]:
    """Producers with the default content type their worker's compatibility settings give."""
    json_default = "no_queues_json_messages" not in flags and (
        "queues_json_messages" in flags or effective_date(date) >= JSON_MESSAGES_DATE
    )
    kind = "json" if json_default else "v8"
    return tuple(replace(p, default_content_type=kind) for p in producers)


def _bounded_int(
    r: Reader, t: dict[str, Any], key: str, where: str, low: int, high: int
) -> int | None:
    value = r.integer(t, key, where)
    if value is not None and not low <= value <= high:
        raise r.error(join(where, key), f"must be between {low} and {high}, got {value}")
    return value


def _queue_name(r: Reader, t: dict[str, Any], key: str, where: str) -> str:
    name = r.required_string(t, key, where)
    if not name or len(name) > 63:
        raise r.error(join(where, key), "a queue name needs 1 to 63 characters")
    return name


def parse_producers(r: Reader, t: dict[str, Any], path: str) -> tuple[QueueProducer, ...]:
    queues = r.table(t, "queues", path)
    if queues is None:
        return ()
    where = join(path, "queues")
    r.unknown_keys(queues, ("producers", "consumers"), where)
    out = []
    for item_where, item in r.table_list(queues, "producers", where):
        r.unknown_keys(item, _PRODUCER_KEYS, item_where)
        delay = _bounded_int(r, item, "delivery_delay", item_where, 0, MAX_DELAY_SECONDS)
        out.append(
            QueueProducer(
                binding=r.identifier(item, "binding", item_where),
                queue=_queue_name(r, item, "queue", item_where),
                delivery_delay=delay or 0,
            )
        )
    return tuple(out)


def parse_consumers(r: Reader, t: dict[str, Any], path: str) -> tuple[QueueConsumer, ...]:
    queues = r.table(t, "queues", path)
    if queues is None:
        return ()
    where = join(path, "queues")
    out: list[QueueConsumer] = []
    seen: set[str] = set()
    for item_where, item in r.table_list(queues, "consumers", where):
        r.unknown_keys(item, _CONSUMER_KEYS, item_where)
        queue = _queue_name(r, item, "queue", item_where)
        kind = r.choice(item, "type", item_where, ("worker", "http_pull"))
        if kind == "http_pull":
            r.warn(
                f'{item_where}: an "http_pull" consumer is not emulated; "{queue}" keeps its messages'
            )
            continue
        if queue in seen:
            raise r.error(
                join(item_where, "queue"), f'queue "{queue}" already has a consumer in this worker'
            )
        seen.add(queue)
        size = _bounded_int(r, item, "max_batch_size", item_where, 1, 100)
        timeout = r.number(item, "max_batch_timeout", item_where)
        if timeout is not None and not 0 <= timeout <= 60:
            raise r.error(
                join(item_where, "max_batch_timeout"),
                f"must be between 0 and 60 seconds, got {timeout:g}",
            )
        retries = _bounded_int(r, item, "max_retries", item_where, 0, 100)
        delay = _bounded_int(r, item, "retry_delay", item_where, 0, MAX_DELAY_SECONDS)
        concurrency = _bounded_int(r, item, "max_concurrency", item_where, 1, 250)
        dlq = r.string(item, "dead_letter_queue", item_where)
        if dlq == queue:
            raise r.error(
                join(item_where, "dead_letter_queue"),
                f'"{queue}" cannot be its own dead-letter queue',
            )
        out.append(
            QueueConsumer(
                queue=queue,
                max_batch_size=10 if size is None else size,
                max_batch_timeout=5.0 if timeout is None else timeout,
                max_retries=3 if retries is None else retries,
                dead_letter_queue=dlq,
                retry_delay=delay or 0,
                max_concurrency=concurrency,
            )
        )
    return tuple(out)
