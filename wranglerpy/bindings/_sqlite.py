"""One SQLite connection per binding, shared-safe across processes (WAL + busy timeout).

Every store under the persist dir goes through :func:`connect`, so all of them get the same
guarantees:

* ``journal_mode=WAL``: readers never block the writer and a writer never blocks readers, so
  two worker processes (or a worker and the CLI) can use one store at once.
* ``busy_timeout``: a writer that finds the write lock taken waits for it instead of failing,
  so concurrent writers from several processes lose nothing.
* ``synchronous=NORMAL``: in WAL mode a commit is written to the WAL before ``COMMIT``
  returns; only the fsync is deferred to checkpoints. A ``kill -9`` of any process therefore
  loses at most the write it was in the middle of and never corrupts the file; only an OS
  crash or power cut could roll back the last few commits. FULL would add an fsync (about a
  millisecond) to every write for a guarantee no local dev store needs.

:class:`SQLiteStore` runs small operations inline on the event loop (a KV get costs tens of
microseconds, less than a hop to a thread) and hands large or unbounded ones to a thread, so a
big scan or a 25 MiB value does not stall other requests. A lock keeps the two paths from
using the connection at once.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from wranglerpy.errors import StateError

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")

# Shared by every store in the process; each store still uses its connection from one thread
# at a time (the store's lock), so the pool size only bounds how many stores work at once.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wranglerpy-sqlite")


def state_dir(persist_dir: Path, kind: str, ident: str) -> Path:
    """``<persist_dir>/<kind>/<ident>/``, with ``ident`` made safe as one path segment.

    Ids are usually hex or UUIDs and stay as they are; anything else (a slash, ``..``) is
    percent-encoded so no id can reach outside its folder.
    """
    if not ident:
        raise StateError(f"A {kind} binding needs a non-empty id.")
    name = ident
    if not _SAFE_NAME.fullmatch(ident):
        name = quote(ident, safe="")
        if name.startswith("."):  # ".", ".." and hidden names
            name = "%2E" + name[1:]
    return persist_dir / kind / name


def _switch_to_wal(conn: sqlite3.Connection) -> str:
    # Two processes opening a brand-new file at once can get SQLITE_BUSY from the journal-mode
    # switch without SQLite calling the busy handler: retry it within the usual busy timeout.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at ``path`` with the guarantees above.

    The connection is in autocommit mode (``isolation_level=None``): each statement commits on
    its own unless the caller opens a transaction explicitly.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
    except (OSError, sqlite3.Error) as exc:
        raise StateError(f"Cannot open the local store {path}: {exc}") from exc
    try:
        # busy_timeout first: switching a new file to WAL needs a lock another process may hold.
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = _switch_to_wal(conn)
        if str(mode).lower() != "wal":
            raise StateError(f"The local store {path} cannot use WAL mode (got {mode!r}).")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StateError(f"The local store {path} is not a usable SQLite database: {exc}") from exc
    return conn


class SQLiteStore:
    """A connection plus the rule for when to run on the loop and when on a thread."""

    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None] | None = None):
        self.path = path
        self.conn = connect(path)
        self._lock = threading.Lock()
        self._closed = False
        if setup is not None:
            with self._lock:
                setup(self.conn)

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` now, on the calling thread (blocking while another call runs)."""
        with self._lock:
            self._check_open()
            return fn(self.conn)

    async def run(self, fn: Callable[[sqlite3.Connection], T], *, offload: bool = False) -> T:
        """Run ``fn(conn)``: inline when small and the connection is free, else on a thread."""
        if not offload and self._lock.acquire(blocking=False):
            try:
                self._check_open()
                return fn(self.conn)
            finally:
                self._lock.release()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_executor, self.call, fn)

    def _check_open(self) -> None:
        if self._closed:
            raise StateError(f"The local store {self.path} is closed.")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.conn.close()
