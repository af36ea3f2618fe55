"""traceparent parsing and making, against the W3C Trace Context spec's rules and examples
(https://www.w3.org/TR/trace-context/#traceparent-header)."""

from __future__ import annotations

import pytest

from wranglerpy.tracing import w3c

EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_parses_the_spec_example() -> None:
    span = w3c.parse(EXAMPLE)
    assert span == w3c.SpanContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert span.traceparent == EXAMPLE


@pytest.mark.parametrize(
    "value",
    [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # v00 has 4 fields
        "abc123",  # a pre-W3C wranglerpy id
    ],
)
def test_invalid_values_are_refused(value: str) -> None:
    assert w3c.parse(value) is None


def test_a_later_version_may_add_fields() -> None:
    assert w3c.parse(EXAMPLE.replace("00-", "01-", 1) + "-future") is not None


def test_child_keeps_trace_and_flags() -> None:
    parent = w3c.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
    span = w3c.child(parent)
    assert (span.trace_id, span.parent_id, span.flags) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        0,
    )
    assert span.span_id != "00f067aa0ba902b7" and len(span.span_id) == 16
    first = w3c.child(None)
    assert first.parent_id is None and len(first.trace_id) == 32
    assert w3c.parse(first.traceparent) == w3c.SpanContext(first.trace_id, first.span_id)
