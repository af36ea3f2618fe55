"""The runtime's span of the call being handled: child of the caller's traceparent, the
parent of the calls it makes."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TypeVar

from wranglerpy.runtime import tracing
from wranglerpy.tracing import w3c

T = TypeVar("T")
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def in_fresh_context(fn: Callable[[], T]) -> T:
    return contextvars.Context().run(fn)


def test_enter_continues_the_callers_trace_and_outgoing_names_this_span() -> None:
    def call() -> tuple[w3c.SpanContext, str]:
        return tracing.enter(CALLER), tracing.outgoing()

    span, outgoing = in_fresh_context(call)
    assert (span.trace_id, span.parent_id) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    assert w3c.parse(outgoing) == w3c.SpanContext(span.trace_id, span.span_id)


def test_a_bare_trace_id_keeps_its_trace() -> None:
    span = in_fresh_context(lambda: tracing.enter("4bf92f3577b34da6a3ce929d0e0e4736"))
    assert span.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and span.parent_id is None


def test_garbage_starts_a_new_trace() -> None:
    span = in_fresh_context(lambda: tracing.enter("not a trace"))
    assert len(span.trace_id) == 32 and span.parent_id is None
    assert in_fresh_context(tracing.current_trace_id) is None
    assert w3c.parse(in_fresh_context(tracing.outgoing)) is not None  # outside a call: new
