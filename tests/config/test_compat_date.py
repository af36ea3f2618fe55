"""One rule for the compatibility date a worker runs with (wrangler ``dev`` uses the current
date when the config sets none)."""

import datetime

from wranglerpy.bindings.workflows.step import IMPLICIT_DATE, implicit_dependencies
from wranglerpy.config.compat_date import effective_date
from wranglerpy.runtime.compat import Compat


def test_a_configured_date_wins() -> None:
    assert effective_date("2024-01-02", today=datetime.date(2030, 5, 6)) == "2024-01-02"


def test_no_date_is_today() -> None:
    assert effective_date(None, today=datetime.date(2030, 5, 6)) == "2030-05-06"
    assert effective_date("", today=datetime.date(2030, 5, 6)) == "2030-05-06"


def test_no_date_defaults_to_the_utc_date() -> None:
    def utc_today() -> str:
        return datetime.datetime.now(datetime.timezone.utc).date().isoformat()

    before = utc_today()
    got = effective_date(None)
    assert got in (before, utc_today())  # a UTC midnight may pass in between


def test_the_worker_and_the_workflows_runner_agree_without_a_date() -> None:
    # The runtime's date and the workflows runner's gate read the same effective date.
    assert Compat.of(None).date == effective_date(None)
    assert implicit_dependencies((), None) == (effective_date(None) >= IMPLICIT_DATE)
    assert implicit_dependencies((), None)  # today is past 2026-02-25
