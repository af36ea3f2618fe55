"""Finish a JSON answer that ran out of tokens, so a ``response_format`` answer always parses.

Constrained decoding keeps every step a valid prefix, but ``max_tokens`` can end it inside a
string or an array. :func:`closing_suffix` searches for the shortest sequence of small pieces
(a quote, a bracket, a placeholder value, a missing required key) that turns the prefix into a
complete value, asking :func:`wranglerpy.ai.constrained.check` about each try. The parser
rejects most pieces at once, so the search stays small (iterative deepening, capped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from wranglerpy.ai.constrained import Status, check

MAX_DEPTH = 24
MAX_CHECKS = 20_000
# Placeholder values come after closers: a short answer is preferred to an invented one.
CLOSERS = ('""', '"', "]", "}", ",")
PLACEHOLDERS = ("0", "[]", "{}", "null", "false", ":", "{", "[")


def _literals(schema: Any) -> Iterator[str]:
    """Every property key (as ``"key"``) and enum/const value in the schema, as JSON text."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for key, sub in props.items():
                yield json.dumps(key, ensure_ascii=False) + ":"
                yield json.dumps(key, ensure_ascii=False)
                yield from _literals(sub)
        for value in schema.get("enum", []) if isinstance(schema.get("enum"), list) else []:
            yield json.dumps(value, ensure_ascii=False)
        if "const" in schema:
            yield json.dumps(schema["const"], ensure_ascii=False)
        for name in ("items", "additionalProperties"):
            yield from _literals(schema.get(name))
        for name in ("anyOf", "oneOf"):
            for sub in schema.get(name) or []:
                yield from _literals(sub)
    elif isinstance(schema, list):
        for sub in schema:
            yield from _literals(sub)


def _pieces(text: str, literals: tuple[str, ...]) -> list[str]:
    """Closers, the rest of any literal the text ends inside, whole literals, placeholders."""
    ends = [
        word[cut:]
        for word in (*literals, "true", "false", "null")
        for cut in range(1, len(word))
        if text.endswith(word[:cut])
    ]
    return [*CLOSERS, *ends, *literals, *PLACEHOLDERS]


def closing_suffix(text: str, schema: dict[str, Any]) -> str | None:
    """The shortest found text that makes ``text`` a complete value of ``schema``.

    ``""`` when it already is one, ``None`` when it is invalid or nothing was found in budget.
    """
    status = check(text, schema)
    if status is Status.COMPLETE:
        return ""
    if status is Status.INVALID:
        return None
    literals = tuple(dict.fromkeys(_literals(schema)))
    budget = [MAX_CHECKS]

    def search(suffix: str, depth: int) -> str | None:
        for piece in _pieces(text + suffix, literals):
            if budget[0] <= 0:
                return None
            budget[0] -= 1
            candidate = suffix + piece
            result = check(text + candidate, schema)
            if result is Status.COMPLETE:
                return candidate
            if result is Status.PARTIAL and depth > 1:
                found = search(candidate, depth - 1)
                if found is not None:
                    return found
        return None

    # Short answers first (a few closers), then a deep depth-first search: the parser prunes
    # almost every piece outside strings, and '"' comes first to leave a string at once.
    for depth in (1, 2, 3, MAX_DEPTH):
        found = search("", depth)
        if found is not None or budget[0] <= 0:
            return found
    return None
