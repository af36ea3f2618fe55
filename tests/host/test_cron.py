from datetime import datetime, timezone

import pytest

from wranglerpy.errors import ConfigError
from wranglerpy.host.cron import Cron

SUNDAY = datetime(2026, 11, 22, 18, 40, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/5 * * * *", datetime(2026, 11, 22, 18, 45, tzinfo=timezone.utc)),
        ("* * * * *", datetime(2026, 11, 22, 18, 41, tzinfo=timezone.utc)),
        ("0 0 * * MON", datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)),
        ("30 9 1 * *", datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)),
        ("0 12 29 2 *", datetime(2028, 2, 29, 12, 0, tzinfo=timezone.utc)),
        ("0 0 * * 7", datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)),  # 7 = Saturday
        ("15 10-12/2 * JAN,DEC *", datetime(2026, 12, 1, 10, 15, tzinfo=timezone.utc)),
        ("0 0 1 * FRI", datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc)),  # either day field
    ],
)
def test_next_run(expression, expected):
    assert Cron.parse(expression).next_after(SUNDAY) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * *", "expected 5 fields"),
        ("61 * * * *", "out of range for minute"),
        ("*/0 * * * *", "bad step"),
        ("0 0 L5 * *", "not valid in the day of month field"),
        ("0 0 * * FUNDAY", "not a valid day of week"),
    ],
)
def test_invalid_expressions(expression, message):
    with pytest.raises(ConfigError, match=message):
        Cron.parse(expression)
