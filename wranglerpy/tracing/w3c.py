"""W3C Trace Context (https://www.w3.org/TR/trace-context/): the ``traceparent`` value
``00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>``, parsed and made.

A call between workers carries the caller's ``traceparent`` (its span as the parent); the
callee starts a child span of it, so every hop of one request shares one trace id.
"""

from __future__ import annotations

import random
import re
from typing import NamedTuple

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
# What every hop between workers carries: version 00, exactly. Matched without groups, then
# sliced: a third of the general pattern's cost, on every call between workers.
_VERSION_00 = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
# Ids need to be unique, not secret: OpenTelemetry's SDKs use the same non-cryptographic
# generator (opentelemetry-sdk trace/id_generator.py RandomIdGenerator), at a fraction of
# os.urandom's cost. Worker processes are exec'd, never forked, so none share its state.
_bits = random.getrandbits
INVALID_TRACE = "0" * 32
INVALID_SPAN = "0" * 16
SAMPLED = 0x01


class SpanContext(NamedTuple):
    """One span's place in a trace; ``parent_id`` is None for the first span. (A NamedTuple:
    two are made per call between workers, and a frozen dataclass costs 10x more to build.)"""

    trace_id: str
    span_id: str
    parent_id: str | None = None
    flags: int = SAMPLED

    @property
    def traceparent(self) -> str:
        """What a call made inside this span carries: this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"


def new_span_id() -> str:
    while not (bits := _bits(64)):
        continue
    return f"{bits:016x}"


def new_trace_id() -> str:
    while not (bits := _bits(128)):
        continue
    return f"{bits:032x}"


def parse(value: str | None) -> SpanContext | None:
    """The span a ``traceparent`` names (the caller's), or None when it is not valid.

    As the spec says: ids must not be all zeros, version ``ff`` is invalid, version ``00``
    has exactly four fields, and a later version may append fields after a dash.
    """
    if not value:
        return None
    if len(value) == 55 and _VERSION_00.fullmatch(value):
        trace_id, span_id = value[3:35], value[36:52]
        if trace_id == INVALID_TRACE or span_id == INVALID_SPAN:
            return None
        return SpanContext(trace_id, span_id, None, int(value[53:], 16))
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == INVALID_TRACE or span_id == INVALID_SPAN:
        return None
    return SpanContext(trace_id, span_id, None, int(flags, 16))


def root() -> SpanContext:
    """The first span of a new trace."""
    return SpanContext(new_trace_id(), new_span_id())


def child(parent: SpanContext | None) -> SpanContext:
    """A new span under ``parent`` (same trace, same flags), or a new trace's first span."""
    if parent is None:
        return root()
    return SpanContext(parent.trace_id, new_span_id(), parent.span_id, parent.flags)
