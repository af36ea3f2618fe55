"""The span of the call being handled, shared with the binding calls it makes.

The wire's ``trace`` field carries a W3C ``traceparent`` (``wranglerpy.tracing.w3c``): the
caller's span. ``enter`` starts this call's span as its child; calls made meanwhile carry
``outgoing()``, so one request and every hop it makes share one trace id.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import time
from collections.abc import Iterator
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
    name: str,
    start_ns: int,
    end_ns: int,
    attributes: dict[str, Any],
    error: bool,
    into: list[dict[str, Any]] | None = None,
) -> None:
    """A child span of the current call (or added to ``into``, a call's ``children()``)."""
    found = _children.get() if into is None else into
    if found is None or (into is None and _span.get() is None):
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


@contextlib.contextmanager
def caller(trace: str | None) -> Iterator[None]:
    """Make the caller's span (a ``traceparent`` from a frame) current while a call runs, so
    the work it starts (a ``Nested`` span) is its child."""
    token = _span.set(w3c.parse(trace))
    try:
        yield
    finally:
        _span.reset(token)


class Nested:
    """The span of work run inside this process for a caller: a Durable Object event, a queue
    batch. A child of ``parent`` (a ``traceparent``) when given, else of the current span (a
    new trace when there is none); current until ``close()``, so calls made meanwhile carry
    it. ``fields()`` are the ids its ``request`` event carries."""

    __slots__ = ("span", "start_ns", "children", "_tokens")

    def __init__(self, parent: str | None = None) -> None:
        up = w3c.parse(parent) if parent else _span.get()
        self.span = w3c.child(up)
        self.start_ns = time.time_ns()
        self.children: list[dict[str, Any]] | None = [] if EXPORTING else None
        self._tokens = (_span.set(self.span), _children.set(self.children))

    def close(self) -> None:
        _span.reset(self._tokens[0])
        _children.reset(self._tokens[1])

    def fields(self) -> dict[str, Any]:
        return {
            "trace": self.span.trace_id,
            "span": self.span.span_id,
            "parent_span": self.span.parent_id,
            "start_ns": self.start_ns,
            "child_spans": self.children,
        }
