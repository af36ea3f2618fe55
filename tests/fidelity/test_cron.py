"""Cron Triggers syntax as Cloudflare parses it (developers.cloudflare.com/workers/
configuration/cron-triggers/, "Supported cron expressions": weekdays 1-7 with 1 = Sunday;
L and W in the day of month; L and # in the day of week)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from wranglerpy.errors import ConfigError
from wranglerpy.host.cron import Cron

START = datetime(2026, 11, 22, 18, 40, tzinfo=timezone.utc)  # a Sunday


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 0 * * 1", at(2026, 11, 29, 0, 0)),  # 1 = Sunday (next one: the 29th)
        ("0 0 * * 2", at(2026, 11, 23, 0, 0)),  # 2 = Monday
        ("0 0 * * SUN", at(2026, 11, 29, 0, 0)),
        ("0 0 * * 7", at(2026, 11, 28, 0, 0)),  # 7 = Saturday
        ("0 0 L * *", at(2026, 11, 30, 0, 0)),  # last day of the month
        ("0 0 LW * *", at(2026, 11, 30, 0, 0)),  # last weekday (Mon 30th)
        ("0 0 15W * *", at(2026, 12, 15, 0, 0)),  # 15 Nov 2026 is a Sunday, passed: Dec 15th
        ("0 0 1W * *", at(2026, 12, 1, 0, 0)),
        ("0 0 * * 6L", at(2026, 11, 27, 0, 0)),  # last Friday of November
        ("0 0 * * 6#3", at(2026, 12, 18, 0, 0)),  # third Friday of December
        ("0 0 * * 2#1", at(2026, 12, 7, 0, 0)),  # first Monday of December
    ],
)
def test_cloudflare_cron_forms(expression: str, expected: datetime) -> None:
    assert Cron.parse(expression).next_after(START) == expected


def test_w_does_not_leave_the_month() -> None:
    """1W on a Saturday first is Monday the 3rd, not the Friday before."""
    assert Cron.parse("0 0 1W 8 *").next_after(at(2026, 7, 1, 0, 0)) == at(2026, 8, 3, 0, 0)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 0 * * 0", r"out of range for day of week \(1-7\) \(1 = Sunday"),
        ("0 0 * * 8", "out of range for day of week"),
        ("0 0 * * 6#6", "# followed by 1-5"),
        ("0 0 32W * *", "out of range for day of month"),
        ("0 L * * *", "not valid in the hour field"),
    ],
)
def test_invalid_forms(expression: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Cron.parse(expression)
