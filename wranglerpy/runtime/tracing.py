"""The span of the call being handled, shared with the binding calls it makes.

The wire's ``trace`` field carries a W3C ``traceparent`` (``wranglerpy.tracing.w3c``): the
caller's span. ``enter`` starts this call's span as its child; calls made meanwhile carry
``outgoing()``, so one request and every hop it makes share one trace id.
"""

from __future__ import annotations

import contextvars

from wranglerpy.tracing import w3c

_span: contextvars.ContextVar[w3c.SpanContext | None] = contextvars.ContextVar("span", default=None)


def new_trace_id() -> str:
    """The ``trace`` of a call that starts a new trace (a public request, a cron)."""
    return w3c.root().traceparent


def enter(trace: str) -> w3c.SpanContext:
    """Start this call's span under the caller's ``trace`` (a new trace if it is not valid)."""
    span = w3c.child(w3c.parse(trace))
    _span.set(span)
    return span


def current_trace_id() -> str | None:
    span = _span.get()
    return span.trace_id if span else None


def outgoing() -> str:
    """The ``trace`` of a call made now: the current span as its parent."""
    span = _span.get()
    return span.traceparent if span else new_trace_id()
