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

A store made with ``own_thread=True`` (D1) never runs on the event loop: every call goes to the
store's one thread, so a slow query or a write lock held by another process (the CLI, another
worker) delays only the requests that use that database. ``time_limit`` bounds each call: a
progress handler interrupts a statement that runs past it (SQLite then raises
``OperationalError("interrupted")``), and the busy timeout bounds the wait for a lock.
"""

from __future__ import annotations

import asyncio
import os
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
from wranglerpy.private_paths import private_dir, private_file

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
# How many SQLite VM steps run between two looks at the clock when a call has a time limit.
_PROGRESS_STEPS = 10_000
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


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at ``path`` with the guarantees above.

    The connection is in autocommit mode (``isolation_level=None``): each statement commits on
    its own unless the caller opens a transaction explicitly.
    """
    # State is private to its user: folders 0700, the file 0600 (SQLite gives its -wal and
    # -shm files the database file's mode).
    private_dir(path.parent)
    private_file(path)
    try:
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

    def __init__(
        self,
        path: Path,
        setup: Callable[[sqlite3.Connection], None] | None = None,
        *,
        own_thread: bool = False,
        time_limit: float | None = None,
    ):
        self.path = path
        self.conn = connect(path)
        self._identity = _file_identity(path)
        self._lock = threading.Lock()
        self._closed = False
        self.own_thread = own_thread
        self.time_limit = time_limit
        self._deadline: float | None = None
        # One thread per store confines the connection to it and keeps the store's slow calls
        # from queueing behind other stores' calls.
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="wranglerpy-sqlite-db")
            if own_thread
            else _executor
        )
        if time_limit is not None:
            self.conn.set_progress_handler(self._past_deadline, _PROGRESS_STEPS)
        if setup is not None:
            with self._lock:
                setup(self.conn)

    def _past_deadline(self) -> int:
        deadline = self._deadline
        return 1 if deadline is not None and time.monotonic() > deadline else 0

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` now, on the calling thread (blocking while another call runs)."""
        with self._lock:
            self._check_open()
            if self.time_limit is None:
                return fn(self.conn)
            self._deadline = time.monotonic() + self.time_limit
            try:
                return fn(self.conn)
            finally:
                self._deadline = None

    async def run(self, fn: Callable[[sqlite3.Connection], T], *, offload: bool = False) -> T:
        """Run ``fn(conn)``: inline when small and the connection is free, else on a thread."""
        if not offload and not self.own_thread and self._lock.acquire(blocking=False):
            try:
                self._check_open()
                return fn(self.conn)
            finally:
                self._lock.release()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.call, fn)

    def _check_open(self) -> None:
        if self._closed:
            raise StateError(f"The local store {self.path} is closed.")
        if _file_identity(self.path) != self._identity:
            # The file was deleted or replaced under us (the state folder removed, or
            # `state reset` from elsewhere): writes would go to an unlinked file and be lost.
            raise StateError(
                f"The local store {self.path} was deleted or replaced while in use; "
                "nothing was written. Restart the session to start from the new state."
            )

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.conn.close()
        if self.own_thread:
            self._executor.shutdown(wait=False)
