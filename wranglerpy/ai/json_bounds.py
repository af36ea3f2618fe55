"""Numeric limits for constrained JSON: may a number that starts like this still be in range?

A prefix is kept only while some number spelled with it lies within ``minimum``/``maximum``
(and their exclusive forms), so decoding can never write itself into a number that has no
valid ending. The exact check, ``multipleOf`` included, runs when the number is complete.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_DIGITS = 16


@dataclass(frozen=True)
class Bounds:
    low: float = -math.inf
    high: float = math.inf
    low_exclusive: bool = False
    high_exclusive: bool = False
    multiple_of: float | None = None

    @property
    def limited(self) -> bool:
        return self.low > -math.inf or self.high < math.inf or self.multiple_of is not None

    def admits(self, value: float) -> bool:
        if value < self.low or (self.low_exclusive and value == self.low):
            return False
        if value > self.high or (self.high_exclusive and value == self.high):
            return False
        if self.multiple_of:
            ratio = value / self.multiple_of
            return math.isclose(ratio, round(ratio), abs_tol=1e-9)
        return True


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def bounds_of(schema: dict[str, Any]) -> Bounds:
    """The schema's limits; draft 4's boolean ``exclusiveMinimum`` works as well as the number."""
    low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
    low_ex, high_ex = False, False
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    number_low, number_high = _number(ex_low), _number(ex_high)
    if ex_low is True:
        low_ex = low is not None
    elif number_low is not None and (low is None or number_low >= low):
        low, low_ex = number_low, True
    if ex_high is True:
        high_ex = high is not None
    elif number_high is not None and (high is None or number_high <= high):
        high, high_ex = number_high, True
    multiple = _number(schema.get("multipleOf"))
    return Bounds(
        low=-math.inf if low is None else low,
        high=math.inf if high is None else high,
        low_exclusive=low_ex,
        high_exclusive=high_ex,
        multiple_of=multiple if multiple and multiple > 0 else None,
    )


def _overlaps(span: tuple[float, float, bool, bool], b: Bounds, integer: bool) -> bool:
    """Whether the span (lowest, highest, lowest open?, highest open?) holds an allowed value,
    an integer one when ``integer``."""
    lowest, highest, lowest_open, highest_open = span
    low, high = max(lowest, b.low), min(highest, b.high)
    if integer:
        low, high = math.ceil(low), math.floor(high)
        if (b.low_exclusive and low == b.low) or (lowest_open and low == lowest):
            low += 1
        if (b.high_exclusive and high == b.high) or (highest_open and high == highest):
            high -= 1
        return low <= high
    if low < high:
        return True
    low_open = (low == lowest and lowest_open) or (low == b.low and b.low_exclusive)
    high_open = (high == highest and highest_open) or (high == b.high and b.high_exclusive)
    return low == high and not (low_open or high_open)


def prefix_viable(
    negative: bool, digits: str, fraction: str | None, b: Bounds, integer: bool
) -> bool:
    """Can a number starting ``-``/``digits``/``.fraction`` (so far) still land in ``b``?

    ``fraction`` is None while the integer part may still grow.
    """
    if not digits:  # only a sign so far
        return b.low < 0
    # Magnitudes the finished number may have, as [start, end] with an open or closed end.
    spans: list[tuple[float, float, bool]] = []
    whole = int(digits)
    if integer:
        if fraction is None and digits != "0":
            spans += [
                (float(whole * 10**k), float((whole + 1) * 10**k - 1), False)
                for k in range(MAX_DIGITS - len(digits) + 1)
            ]
        else:
            spans.append((float(whole), float(whole), False))
    elif fraction:
        start = float(f"{digits}.{fraction}")
        spans.append((start, start + 10.0 ** -len(fraction), True))
    elif fraction is not None or digits == "0":
        spans.append((float(whole), float(whole + 1), True))
    else:
        spans += [
            (float(whole * 10**k), float((whole + 1) * 10**k), True)
            for k in range(MAX_DIGITS - len(digits) + 1)
        ]
    for start, end, end_open in spans:
        span = (-end, -start, end_open, False) if negative else (start, end, False, end_open)
        if _overlaps(span, b, integer):
            return True
    return False
