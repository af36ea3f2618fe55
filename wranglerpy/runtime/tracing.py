"""The trace id of the request being handled, shared with binding calls it makes."""

from __future__ import annotations

import contextvars
import secrets

_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)


def new_trace_id() -> str:
    return secrets.token_hex(8)


def current_trace_id() -> str | None:
    return _trace_id.get()


def set_trace_id(trace_id: str) -> contextvars.Token[str | None]:
    return _trace_id.set(trace_id)
