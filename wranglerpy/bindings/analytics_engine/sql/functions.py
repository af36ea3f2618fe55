"""ClickHouse semantics that SQLite lacks, registered on the query connection as functions.

A function that must fail (``intDiv`` by zero) records why in ``errors`` before raising, since
SQLite only reports "user-defined function raised exception".
"""

from __future__ import annotations

import math
import re
import sqlite3
from functools import lru_cache
from typing import Any


class FunctionErrors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def fail(self, message: str) -> None:
        self.messages.append(message)
        raise ValueError(message)


@lru_cache(maxsize=256)
def like_regex(pattern: str) -> re.Pattern[str]:
    """ClickHouse LIKE: ``%`` any run, ``_`` one character, ``\\`` escapes; case-sensitive."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _like(value: Any, pattern: Any) -> int | None:
    if value is None or pattern is None:
        return None
    return int(like_regex(str(pattern)).fullmatch(str(value)) is not None)


def _div(a: Any, b: Any) -> float | None:
    """``/`` is always floating-point in ClickHouse; x/0 is inf or nan, not NULL."""
    if a is None or b is None:
        return None
    if b == 0:
        return (
            math.nan
            if a == 0 or (isinstance(a, float) and math.isnan(a))
            else math.copysign(math.inf, a)
        )
    return float(a) / float(b)


def _mod(a: Any, b: Any) -> float | int | None:
    if a is None or b is None:
        return None
    if b == 0:
        return math.nan
    result = math.fmod(a, b)  # the sign of the dividend, as in C and ClickHouse
    return int(result) if isinstance(a, int) and isinstance(b, int) else result


class QuantileWeighted:
    """ClickHouse's ``quantileWeighted(level, x, weight)`` (its exact weighted algorithm)."""

    def __init__(self) -> None:
        self.level = 0.5
        self.pairs: list[tuple[float, float]] = []

    def step(self, level: float, value: Any, weight: Any) -> None:
        self.level = level
        if value is not None and weight is not None and weight > 0:
            self.pairs.append((value, weight))

    def finalize(self) -> float | None:
        if not self.pairs:
            return None
        self.pairs.sort(key=lambda p: p[0])
        total = sum(w for _, w in self.pairs)
        threshold = math.ceil(total * self.level)
        accumulated = 0.0
        for value, weight in self.pairs:
            accumulated += weight
            if accumulated >= threshold:
                return float(value)
        return float(self.pairs[-1][0])


def register(conn: sqlite3.Connection) -> FunctionErrors:
    errors = FunctionErrors()

    def intdiv(a: Any, b: Any) -> int | None:
        if a is None or b is None:
            return None
        if b == 0:
            errors.fail("Division by zero in intDiv.")
        return int(a / b) if isinstance(a, float) or isinstance(b, float) else _trunc_div(a, b)

    conn.create_function("ae_like", 2, _like, deterministic=True)
    conn.create_function("ae_div", 2, _div, deterministic=True)
    conn.create_function("ae_mod", 2, _mod, deterministic=True)
    conn.create_function("ae_intdiv", 2, intdiv, deterministic=True)
    conn.create_aggregate("ae_quantile_weighted", 3, QuantileWeighted)  # type: ignore[arg-type]
    return errors


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q
