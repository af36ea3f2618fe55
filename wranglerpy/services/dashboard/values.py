"""Stored values as JSON the page can show: text when it is UTF-8, else a hex preview, always
with the size, and cut at :data:`PREVIEW` bytes (keys and values are anyone's input)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

PREVIEW = 64 * 1024  # bytes of a value sent to the page
DEPTH = 20


def preview(data: bytes, size: int | None = None) -> dict[str, Any]:
    """``{size, text}`` for UTF-8, ``{size, hex}`` otherwise; ``truncated`` when cut."""
    total = len(data) if size is None else size
    cut = data[:PREVIEW]
    out: dict[str, Any] = {"size": total, "truncated": total > len(cut)}
    try:
        out["text"] = cut.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(cut) == PREVIEW and exc.start >= PREVIEW - 3:  # a character cut in two
            out["text"] = cut[: exc.start].decode("utf-8")
            out["truncated"] = True
        else:
            out["hex"] = cut[:4096].hex()
            out["truncated"] = total > 4096
    return out


def jsonable(value: Any, depth: int = 0) -> Any:
    """Any decoded value (KV metadata, Durable Object storage, queue bodies) as JSON data."""
    if depth > DEPTH:
        return "…"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": preview(bytes(value))}
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in list(value.items())[:1000]}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, depth + 1) for v in list(value)[:1000]]
    return repr(value)[:PREVIEW]
