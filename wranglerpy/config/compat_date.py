"""The compatibility date a worker runs with: the one its config sets, else today's.

wrangler ``dev`` runs a worker without a ``compatibility_date`` at the current date (and
warns); everything that gates a behaviour on the date (the worker's runtime, the workflows
runner, queue producers, the config's "date in the future" check) asks this one function so
they never disagree.
"""

from __future__ import annotations

import datetime


def effective_date(configured: str | None, today: datetime.date | None = None) -> str:
    """``configured`` when set, else ``today`` (default: the UTC date, as wrangler takes it
    from ``Date.toISOString()``) as ``YYYY-MM-DD``."""
    if configured:
        return configured
    return (today or datetime.datetime.now(datetime.timezone.utc).date()).isoformat()
