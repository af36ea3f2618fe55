"""The rate limiter: a fixed window per ``(key, period)``, counted in SQLite.

Semantics follow miniflare's emulation (cloudflare/workers-sdk ``packages/miniflare/src/
workers/ratelimit/ratelimit.worker.ts`` and ``ratelimit-object.worker.ts``): options may only
be ``key``, ``limit`` and ``period``; ``key`` defaults to ``""``, ``limit``/``period`` to the
binding's; ``period`` is 10 or 60; windows are aligned to the wall clock
(``epoch = floor(now / period)``); a call over the limit is refused and not counted. Each call
is one ``BEGIN IMMEDIATE`` transaction, so processes sharing a namespace never lose a count.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.errors import BindingError
from wranglerpy.jsobject import JSObject, options

PERIODS = (10, 60)
OPTION_KEYS = ("key", "limit", "period")
SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    key TEXT NOT NULL,
    period INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, period)
);
"""


class RateLimitError(BindingError, ValueError):
    """Options the rate limiter rejects (a JS ``Error`` on Cloudflare)."""


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


class RateLimitBinding:
    def __init__(
        self,
        path: Path,
        limit: int,
        period: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = SQLiteStore(path, _setup)
        self._limit = limit
        self._period = period
        self._clock = clock

    def __repr__(self) -> str:
        return f"<Ratelimit {self._limit} per {self._period}s>"

    def close(self) -> None:
        self._store.close()

    async def limit(self, opts: Any = None, **kwargs: Any) -> JSObject:
        """Count one call for ``key``; ``{"success": False}`` once the window is full."""
        if opts is None and not kwargs:
            raise RateLimitError("invalid rate limit options")
        try:
            settings = options(opts, **kwargs)
        except TypeError:
            raise RateLimitError("invalid rate limit options") from None
        bad = [k for k in settings if k not in OPTION_KEYS]
        if bad:
            raise RateLimitError(f"bad rate limit options: [{','.join(bad)}]")
        key = settings.get("key", "")
        limit = settings.get("limit", self._limit)
        period = settings.get("period", self._period)
        if not isinstance(key, str):
            raise RateLimitError(f"invalid key: {key}")
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise RateLimitError(f"limit must be a number: {limit}")
        if isinstance(period, bool) or not isinstance(period, (int, float)):
            raise RateLimitError(f"period must be a number: {period}")
        if period not in PERIODS:
            raise RateLimitError(f"unsupported period: {period}")
        allowed = await self._store.run(lambda c: self._count(c, key, limit, int(period)))
        return JSObject({"success": allowed})

    def _count(self, conn: sqlite3.Connection, key: str, limit: float, period: int) -> bool:
        epoch = math.floor(self._clock() / period)
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT epoch, count FROM buckets WHERE key = ? AND period = ?", (key, period)
            ).fetchone()
            count = row[1] if row is not None and row[0] == epoch else 0
            if row is None or row[0] != epoch:
                # Windows roll over together; old ones of this period are dead weight.
                conn.execute("DELETE FROM buckets WHERE period = ? AND epoch != ?", (period, epoch))
            allowed = count < limit
            if allowed:
                conn.execute(
                    "INSERT OR REPLACE INTO buckets (key, period, epoch, count) "
                    "VALUES (?, ?, ?, ?)",
                    (key, period, epoch, count + 1),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return allowed
