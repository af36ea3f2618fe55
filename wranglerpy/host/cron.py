"""Cron expressions of ``[triggers] crons``: parse, validate, and find the next run time.

Five fields (minute hour day-of-month month day-of-week), in UTC as on Cloudflare, with
``*``, lists, ranges, steps and month/day names. Cloudflare's ``L``, ``W`` and ``#`` forms are
reported as unsupported locally rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from wranglerpy.errors import ConfigError

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        start=1,
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


def _value(text: str, names: dict[str, int], expression: str, field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ConfigError(
            f"Invalid cron expression {expression!r}: {text!r} is not a valid {field}"
        )
    return int(text)


def _field(
    part: str, low: int, high: int, names: dict[str, int], expression: str, field: str
) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        if any(c in item.upper() for c in "LW#?") and item not in ("?",):
            raise ConfigError(
                f"Cron expression {expression!r} uses {item!r}, which wranglerpy does not run locally "
                "(L, W and # forms); use the /cdn-cgi/local/scheduled URL to trigger it by hand"
            )
        body, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ConfigError(f"Invalid cron expression {expression!r}: bad step {step_text!r}")
        if body in ("*", "?"):
            start, end = low, high
        elif "-" in body:
            a, b = body.split("-", 1)
            start, end = _value(a, names, expression, field), _value(b, names, expression, field)
        else:
            start = _value(body, names, expression, field)
            end = high if step else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise ConfigError(
                f"Invalid cron expression {expression!r}: {item!r} is out of range for {field} ({low}-{high})"
            )
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        parts = expression.split()
        if len(parts) != 5:
            raise ConfigError(
                f"Invalid cron expression {expression!r}: expected 5 fields, got {len(parts)}"
            )
        sets = [
            _field(p, lo, hi, names, expression, name)
            for p, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True)
        ]
        weekdays = frozenset(0 if d == 7 else d for d in sets[4])
        return cls(
            expression,
            sets[0],
            sets[1],
            sets[2],
            sets[3],
            weekdays,
            parts[2] in ("*", "?"),
            parts[4] in ("*", "?"),
        )

    def matches(self, when: datetime) -> bool:
        if (
            when.minute not in self.minutes
            or when.hour not in self.hours
            or when.month not in self.months
        ):
            return False
        return self._day_possible(when)

    def next_after(self, after: datetime) -> datetime:
        """The first matching minute strictly after ``after`` (UTC), within four years."""
        when = (after.astimezone(timezone.utc) + timedelta(minutes=1)).replace(
            second=0, microsecond=0
        )
        limit = when + timedelta(days=366 * 4)
        while when < limit:
            if when.month not in self.months:
                when = (when.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_possible(when):
                when = when.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if when.hour not in self.hours:
                when = when.replace(minute=0) + timedelta(hours=1)
                continue
            if self.matches(when):
                return when
            when += timedelta(minutes=1)
        raise ConfigError(f"Cron expression {self.expression!r} never fires")

    def _day_possible(self, when: datetime) -> bool:
        # Classic cron: when both day fields are restricted, either one may match.
        day_ok = when.day in self.days
        weekday_ok = (when.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok
