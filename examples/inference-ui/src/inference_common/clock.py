"""Time as the API speaks it: Unix epoch milliseconds."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone


def now_ms() -> int:
    return int(time.time() * 1000)


def month_start_ms(at_ms: int) -> int:
    """The first instant (UTC) of the calendar month containing ``at_ms``."""
    at = datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc)
    start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


def utc_date(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d")


def new_id() -> str:
    return str(uuid.uuid4())
