"""Cron expressions of ``[triggers] crons``: parse, validate, and find the next run time.

Five fields (minute hour day-of-month month day-of-week), in UTC, with Cloudflare's Cron
Triggers syntax: ``*``, lists, ranges, steps, month and day names; days of the week run from
1 = Sunday to 7 = Saturday (``SUN``-``SAT``); the day of the month takes ``L`` (last day),
``LW`` (last weekday) and ``15W`` (the weekday nearest the 15th); the day of the week takes
``5L`` (the month's last Thursday) and ``6#3`` (its third Friday).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from wranglerpy.errors import ConfigError

_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
# Cloudflare numbers the days of the week 1 = Sunday ... 7 = Saturday.
_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 1, 7, _DAYS),
)

# A day matched by ``L``, ``W`` or ``#`` rather than by its number.
DayRule = Callable[[datetime], bool]


def _value(text: str, names: dict[str, int], expression: str, field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ConfigError(
            f"Invalid cron expression {expression!r}: {text!r} is not a valid {field}"
        )
    return int(text)


def _out_of_range(expression: str, item: str, field: str, low: int, high: int) -> ConfigError:
    hint = " (1 = Sunday ... 7 = Saturday, as Cloudflare counts)" if field == "day of week" else ""
    return ConfigError(
        f"Invalid cron expression {expression!r}: {item!r} is out of range for {field} "
        f"({low}-{high}){hint}"
    )


def _special(item: str, field: str, expression: str) -> DayRule | None:
    """``L``/``W``/``#`` forms of the two day fields, or None for an ordinary item."""
    upper = item.upper()
    if field == "day of month":
        if upper == "L":
            return lambda when: when.day == _last_day(when)
        if upper == "LW":
            return lambda when: when.day == _nearest_weekday(when, _last_day(when))
        if upper.endswith("W") and upper[:-1].isdigit():
            day = int(upper[:-1])
            if not 1 <= day <= 31:
                raise _out_of_range(expression, item, field, 1, 31)
            return lambda when: when.day == _nearest_weekday(when, day)
    if field == "day of week":
        if upper.endswith("L"):
            # The month's last given weekday; a lone L: the last day of the week, Saturday.
            weekday = _value(upper[:-1], _DAYS, expression, field) - 1 if upper != "L" else 6
            return lambda when: _weekday(when) == weekday and when.day + 7 > _last_day(when)
        if "#" in upper:
            day_text, _, nth_text = upper.partition("#")
            day = _value(day_text, _DAYS, expression, field)
            if not 1 <= day <= 7:
                raise _out_of_range(expression, item, field, 1, 7)
            if not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
                raise ConfigError(
                    f"Invalid cron expression {expression!r}: {item!r} needs # followed by 1-5"
                )
            nth = int(nth_text)
            return lambda when: _weekday(when) == day - 1 and (when.day - 1) // 7 + 1 == nth
    if any(c in upper for c in "LW#"):
        raise ConfigError(
            f"Invalid cron expression {expression!r}: {item!r} is not valid in the {field} field"
        )
    return None


def _field(
    part: str, low: int, high: int, names: dict[str, int], expression: str, field: str
) -> tuple[frozenset[int], tuple[DayRule, ...]]:
    values: set[int] = set()
    rules: list[DayRule] = []
    for item in part.split(","):
        rule = _special(item, field, expression)
        if rule is not None:
            rules.append(rule)
            continue
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
            raise _out_of_range(expression, item, field, low, high)
        values.update(range(start, end + 1, step or 1))
    return frozenset(values), tuple(rules)


def _last_day(when: datetime) -> int:
    return calendar.monthrange(when.year, when.month)[1]


def _weekday(when: datetime) -> int:
    return when.isoweekday() % 7  # Sunday = 0


def _nearest_weekday(when: datetime, day: int) -> int:
    """The weekday nearest ``day`` of ``when``'s month, without leaving it (Quartz's ``W``)."""
    last = _last_day(when)
    day = min(day, last)
    weekday = date(when.year, when.month, day).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: Friday before, or Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before on the last day
        return day + 1 if day < last else day - 2
    return day


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # Sunday = 0 ... Saturday = 6
    any_day: bool
    any_weekday: bool
    day_rules: tuple[DayRule, ...] = ()
    weekday_rules: tuple[DayRule, ...] = ()

    @classmethod
    def parse(cls, expression: str) -> Cron:
        parts = expression.split()
        if len(parts) != 5:
            raise ConfigError(
                f"Invalid cron expression {expression!r}: expected 5 fields, got {len(parts)}"
            )
        fields = [
            _field(p, lo, hi, names, expression, name)
            for p, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True)
        ]
        return cls(
            expression,
            fields[0][0],
            fields[1][0],
            fields[2][0],
            fields[3][0],
            frozenset(d - 1 for d in fields[4][0]),
            parts[2] in ("*", "?"),
            parts[4] in ("*", "?"),
            fields[2][1],
            fields[4][1],
        )

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
            if when.minute in self.minutes:  # month, day and hour match already
                return when
            when += timedelta(minutes=1)
        raise ConfigError(f"Cron expression {self.expression!r} never fires")

    def _day_possible(self, when: datetime) -> bool:
        # Classic cron: when both day fields are restricted, either one may match.
        day_ok = when.day in self.days or any(rule(when) for rule in self.day_rules)
        weekday_ok = _weekday(when) in self.weekdays or any(r(when) for r in self.weekday_rules)
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok
