"""JSON with comments (``wrangler.jsonc``): strip ``//`` and ``/* */`` comments and trailing
commas, then hand the text to :mod:`json`.

The stripper replaces every removed character with a space (newlines are kept), so line and
column numbers in ``json``'s errors still point into the original file.
"""

from __future__ import annotations

import json
from typing import Any


class JSONCError(ValueError):
    """Malformed JSONC. ``line`` and ``column`` are 1-based positions in the original text."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.reason = message
        self.line = line
        self.column = column


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def strip_jsonc(text: str) -> str:
    """``text`` with comments and trailing commas blanked out; strings are left untouched."""
    out = list(text)
    i, n = 0, len(text)
    # Index in ``out`` of a comma that may turn out to be trailing (only whitespace or
    # comments since), or -1.
    pending_comma = -1
    last = ""  # the last significant character kept (a string counts as '"')
    while i < n:
        ch = text[i]
        if ch == '"':
            pending_comma = -1
            last = '"'
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    break  # json reports the unterminated string at its own position
                i += 1
            i += 1
            continue
        if ch == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
            continue
        if ch == "/" and i + 1 < n and text[i + 1] == "*":
            end = text.find("*/", i + 2)
            if end < 0:
                line, column = _position(text, i)
                raise JSONCError("unterminated /* comment", line, column)
            for j in range(i, end + 2):
                if out[j] != "\n":
                    out[j] = " "
            i = end + 2
            continue
        if ch == ",":
            # Only a comma after a value can be trailing; "[,]" or "a: ," stay errors.
            pending_comma = i if last and last not in "[{,:" else -1
        elif ch in "]}":
            if pending_comma >= 0:
                out[pending_comma] = " "
            pending_comma = -1
        elif not ch.isspace():
            pending_comma = -1
        if not ch.isspace():
            last = ch
        i += 1
    return "".join(out)


def loads_jsonc(text: str) -> Any:
    """Parse JSONC text; raise :class:`JSONCError` with the original line and column."""
    if text.startswith("\ufeff"):
        text = text[1:]  # editors on Windows like to add a BOM
    stripped = strip_jsonc(text)
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise JSONCError(exc.msg, exc.lineno, exc.colno) from None
