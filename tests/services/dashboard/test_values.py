"""Stored values as the page gets them: text, hex, cut at the preview size, JSON-safe."""

from __future__ import annotations

import datetime as dt

from wranglerpy.services.dashboard.values import PREVIEW, jsonable, preview


def test_text_hex_and_cuts() -> None:
    assert preview("héllo".encode()) == {"size": 6, "truncated": False, "text": "héllo"}
    assert preview(b"\xff\x00") == {"size": 2, "truncated": False, "hex": "ff00"}
    big = preview(b"a" * (PREVIEW + 10))
    assert big["truncated"] and len(big["text"]) == PREVIEW and big["size"] == PREVIEW + 10
    # A character cut in two at the preview's end is still text, one character shorter.
    split = preview(b"a" * (PREVIEW - 1) + "é".encode())
    assert split["truncated"] and split["text"] == "a" * (PREVIEW - 1)
    assert preview(b"abc", size=100) == {"size": 100, "truncated": True, "text": "abc"}


def test_jsonable() -> None:
    when = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    value = {"b": b"\x01", "t": when, "f": float("nan"), "s": {1}, "o": object}
    out = jsonable(value)
    assert out["b"] == {"$bytes": {"size": 1, "truncated": False, "text": "\x01"}}
    assert out["t"] == "2026-01-02T00:00:00+00:00" and out["f"] == "nan" and out["s"] == [1]
    assert out["o"] == "<class 'object'>"
    deep: list[object] = []
    cursor = deep
    for _ in range(50):
        cursor.append([])
        cursor = cursor[0]  # type: ignore[assignment]
    assert "…" in str(jsonable(deep))
