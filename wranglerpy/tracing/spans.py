"""Spans from the ``request`` events workers already emit (one per fetch, binding fetch, RPC,
cron call, Durable Object event and queue batch, with its trace, span and parent span ids), so
tracing adds nothing to the worker's hot path beyond three ids and a timestamp."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wranglerpy.tracing import w3c


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str  # the worker: OpenTelemetry's service.name
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, str | int | float] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()  # (trace id, span id): a batch's other senders


def span_name(event: dict[str, Any]) -> str:
    method = str(event.get("method", ""))
    if method == "RPC":
        return f"RPC {event.get('entrypoint') or 'Default'}.{event.get('rpcMethod', '')}"
    if method == "CRON":
        return f"CRON {event.get('path', '')}"
    if event.get("durableObjectId"):  # path is "<method>() <id>" or "fetch() <url path>"
        return f"DO {event.get('entrypoint')}.{str(event.get('path', '')).split('(')[0]}"
    return f"{method} {event.get('path', '/')}"


def from_event(event: dict[str, Any]) -> Span | None:
    """The span of one finished call, or None for events that are not one."""
    if event.get("type") != "request" or not event.get("span") or not event.get("trace"):
        return None
    start = int(event.get("start_ns") or 0)
    status = int(event.get("status") or 0)
    attributes: dict[str, str | int | float] = {
        "http.request.method": str(event.get("method", "")),
        "url.full": str(event.get("url", "")),
        "http.response.status_code": status,
        "wranglerpy.outcome": str(event.get("outcome", "")),
    }
    for key in ("caller", "entrypoint"):
        if event.get(key):
            attributes[f"wranglerpy.{key}"] = str(event[key])
    if event.get("durableObjectId"):
        attributes["wranglerpy.durable_object.id"] = str(event["durableObjectId"])
    batch = event.get("queue_batch")
    if batch:  # OpenTelemetry's messaging attributes
        attributes["messaging.system"] = "cloudflare_queues"
        attributes["messaging.destination.name"] = str(batch.get("queue", ""))
        attributes["messaging.batch.message_count"] = int(batch.get("batchSize") or 0)
    links = tuple(
        (link.trace_id, link.span_id)
        for link in (w3c.parse(value) for value in event.get("links") or ())
        if link is not None
    )
    return Span(
        trace_id=str(event["trace"]),
        span_id=str(event["span"]),
        parent_id=event.get("parent_span") or None,
        name=span_name(event),
        service=str(event.get("worker", "")),
        start_ns=start,
        end_ns=start + int(float(event.get("duration_ms") or 0) * 1_000_000),
        error=event.get("outcome") not in (None, "ok") or status >= 500,
        attributes=attributes,
        links=links,
    )


def spans_from_event(event: dict[str, Any]) -> list[Span]:
    """The call's span and the child spans of its binding calls (KV, D1, R2, AI, ...)."""
    span = from_event(event)
    if span is None:
        return []
    out = [span]
    for child in event.get("child_spans") or ():
        out.append(
            Span(
                trace_id=span.trace_id,
                span_id=str(child["span"]),
                parent_id=span.span_id,
                name=str(child["name"]),
                service=span.service,
                start_ns=int(child["start_ns"]),
                end_ns=int(child["end_ns"]),
                error=bool(child.get("error")),
                attributes=dict(child.get("attributes") or {}),
            )
        )
    return out
