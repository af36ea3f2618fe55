"""Workflow durations: a number of milliseconds, or text like ``"10 seconds"``/``"1 day"``
(the forms itty-time's ``ms()`` reads in workers-sdk packages/workflows-shared)."""

from __future__ import annotations

import datetime as _dt
import re

_UNITS = {
    "ms": 1,
    "millisecond": 1,
    "milliseconds": 1,
    "s": 1000,
    "sec": 1000,
    "secs": 1000,
    "second": 1000,
    "seconds": 1000,
    "m": 60_000,
    "min": 60_000,
    "mins": 60_000,
    "minute": 60_000,
    "minutes": 60_000,
    "h": 3_600_000,
    "hr": 3_600_000,
    "hrs": 3_600_000,
    "hour": 3_600_000,
    "hours": 3_600_000,
    "d": 86_400_000,
    "day": 86_400_000,
    "days": 86_400_000,
    "w": 604_800_000,
    "week": 604_800_000,
    "weeks": 604_800_000,
    "month": 2_629_800_000,
    "months": 2_629_800_000,
    "y": 31_557_600_000,
    "year": 31_557_600_000,
    "years": 31_557_600_000,
}
_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)?\s*$")


def to_ms(value: object) -> float:
    """Milliseconds for ``value``; ValueError with the value when it is not a duration."""
    if isinstance(value, _dt.timedelta):
        return value.total_seconds() * 1000
    if isinstance(value, bool):
        raise ValueError(f"invalid duration: {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"invalid duration: {value!r}")
        return float(value)
    if isinstance(value, str):
        match = _TEXT.match(value)
        if match:
            unit = (match.group(2) or "ms").lower()
            if unit in _UNITS:
                return float(match.group(1)) * _UNITS[unit]
    raise ValueError(f'invalid duration: {value!r} (use milliseconds or text like "30 seconds")')


def to_timestamp(value: object) -> float:
    """Epoch seconds for ``sleep_until``: a datetime, epoch milliseconds, or ISO text."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 1000
    if isinstance(value, str):
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return to_timestamp(parsed)
    raise TypeError(f"sleep_until needs a datetime, epoch milliseconds or ISO text, got {value!r}")
