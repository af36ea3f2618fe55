"""``[limits]``: the CPU time and subrequest budget of one invocation (wrangler's ``cpu_ms`` and
``subrequests``, workers-sdk ``packages/workers-utils/src/config/environment.ts`` ``UserLimits``).

Defaults are the Workers Paid plan's, as Cloudflare documents them
(developers.cloudflare.com/workers/platform/limits/): 30,000 ms of CPU time (raisable to
300,000) and 10,000 subrequests (raisable to 10,000,000). ``[limits]`` is a Paid-plan setting;
the Free plan's 10 ms and 50 subrequests can be tried with ``cpu_ms = 10, subrequests = 50``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wranglerpy.config.fields import Reader, join

DEFAULT_CPU_MS = 30_000
MAX_CPU_MS = 300_000
DEFAULT_SUBREQUESTS = 10_000
MAX_SUBREQUESTS = 10_000_000


@dataclass(frozen=True)
class Limits:
    """Per-invocation limits: ``cpu_ms`` of CPU time (not wall time) and ``subrequests``."""

    cpu_ms: int = DEFAULT_CPU_MS
    subrequests: int = DEFAULT_SUBREQUESTS


def parse_limits(r: Reader, t: dict[str, Any], path: str) -> Limits:
    where = join(path, "limits")
    table = r.table(t, "limits", path)
    if table is None:
        return Limits()
    r.unknown_keys(table, ("cpu_ms", "subrequests"), where)
    cpu_ms = _bounded(r, table, "cpu_ms", where, MAX_CPU_MS)
    subrequests = _bounded(r, table, "subrequests", where, MAX_SUBREQUESTS)
    return Limits(
        cpu_ms=DEFAULT_CPU_MS if cpu_ms is None else cpu_ms,
        subrequests=DEFAULT_SUBREQUESTS if subrequests is None else subrequests,
    )


def _bounded(r: Reader, table: dict[str, Any], key: str, where: str, most: int) -> int | None:
    value = r.integer(table, key, where)
    if value is not None and not 1 <= value <= most:
        # Cloudflare refuses such a version at upload; say so before it is deployed.
        raise r.error(join(where, key), f"must be between 1 and {most:,}, got {value}")
    return value
