"""The span of the call being handled, shared with the binding calls it makes.

The wire's ``trace`` field carries a W3C ``traceparent`` (``wranglerpy.tracing.w3c``): the
caller's span. ``enter`` starts this call's span as its child; calls made meanwhile carry
``outgoing()``, so one request and every hop it makes share one trace id.
"""

from __future__ import annotations

import contextvars
import os
import re
from typing import Any

from wranglerpy.tracing import w3c

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
# With spans exported, binding calls are timed as child spans of the call (binding_spans).
EXPORTING = bool(
    os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
)
_children: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "child_spans", default=None
)
_span: contextvars.ContextVar[w3c.SpanContext | None] = contextvars.ContextVar("span", default=None)


def new_trace_id() -> str:
    """The ``trace`` of a call that starts a new trace (a public request, a cron)."""
    return w3c.root().traceparent


def enter(trace: str) -> w3c.SpanContext:
    """Start this call's span under the caller's ``trace`` (a new trace if it is not valid).

    A bare 32-hex trace id (a caller that passed ``current_trace_id()``) keeps its trace,
    without a parent span, so tails still line up.
    """
    parent = w3c.parse(trace)
    if parent is None and _TRACE_ID.fullmatch(trace or "") and trace != w3c.INVALID_TRACE:
        span = w3c.SpanContext(trace, w3c.new_span_id())
    else:
        span = w3c.child(parent)
    _span.set(span)
    if EXPORTING:
        _children.set([])
    return span


def children() -> list[dict[str, Any]] | None:
    """The child spans recorded in this call so far (the same list as they are added)."""
    return _children.get()


def record_child(
    name: str, start_ns: int, end_ns: int, attributes: dict[str, str | int], error: bool
) -> None:
    found = _children.get()
    span = _span.get()
    if found is None or span is None:
        return
    found.append(
        {
            "span": w3c.new_span_id(),
            "name": name,
            "start_ns": start_ns,
            "end_ns": end_ns,
            "attributes": attributes,
            "error": error,
        }
    )


def current_trace_id() -> str | None:
    span = _span.get()
    return span.trace_id if span else None


def outgoing() -> str:
    """The ``trace`` of a call made now: the current span as its parent."""
    span = _span.get()
    return span.traceparent if span else new_trace_id()
