"""The local queue store: every queue's messages in one SQLite file, shared by all processes.

Producers insert rows; a consumer *leases* a batch (marks its rows with a lease id, an expiry
and its pid, in one transaction), runs its handler, then *settles* the lease in one
transaction: acked rows are deleted, retried rows become visible again after their delay, and
rows out of attempts move to the dead-letter queue (or are dropped). A lease that expires, or
whose process is gone, frees its rows again, so a consumer killed mid-batch gets its
unacknowledged messages back (at-least-once, as on Cloudflare).

``attempts`` counts deliveries started, so the handler sees 1 on the first delivery.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.host.locations import pid_alive  # every lease holder is local

DB_FILE = "queues.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    created_on REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_bindings (
    queue TEXT NOT NULL,
    worker TEXT NOT NULL,
    role TEXT NOT NULL,
    seen REAL NOT NULL,
    PRIMARY KEY (queue, worker, role)
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    visible_at REAL NOT NULL,
    lease TEXT,
    lease_until REAL,
    lease_pid INTEGER,
    trace TEXT
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, lease, visible_at);
CREATE INDEX IF NOT EXISTS messages_lease ON messages (lease);
"""


def store_path(persist_dir: Path) -> Path:
    return persist_dir / "queues" / DB_FILE


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)
    # The producer's traceparent (added later): a store written by an older wranglerpy gets it.
    if "trace" not in {row[1] for row in conn.execute("PRAGMA table_info(messages)")}:
        try:
            conn.execute("ALTER TABLE messages ADD COLUMN trace TEXT")
        except sqlite3.OperationalError as exc:  # another process added it meanwhile
            if "duplicate column" not in str(exc):
                raise


@dataclass(frozen=True)
class NewMessage:
    id: str
    sent_ms: int
    content_type: str
    body: bytes
    delay: float = 0.0
    trace: str = ""  # the producer's traceparent


@dataclass(frozen=True)
class StoredMessage:
    id: str
    sent_ms: int
    content_type: str
    body: bytes
    attempts: int
    trace: str = ""  # the producer's traceparent


@dataclass
class Lease:
    """A batch leased by one consumer, or when nothing is due, when to look again."""

    id: str = ""
    messages: list[StoredMessage] = field(default_factory=list)
    next_due: float | None = None  # epoch seconds at which a batch may become due
    dead_lettered: list[tuple[str, str | None]] = field(default_factory=list)  # (id, dlq)


@dataclass(frozen=True)
class Settlement:
    acked: int
    retried: int
    dead_lettered: list[tuple[str, str | None]]  # (message id, dead-letter queue or None)


@dataclass(frozen=True)
class QueueInfo:
    name: str
    created_on: float
    ready: int
    delayed: int
    in_flight: int
    producers: tuple[str, ...]
    consumers: tuple[str, ...]


class QueueStore:
    """Transactions over ``queues.sqlite``; ``clock`` and ``alive`` are seams for tests."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        alive: Callable[[int], bool] = pid_alive,
    ) -> None:
        self.sqlite = SQLiteStore(path, _setup)
        self._clock = clock
        self._alive = alive
        self._last_sweep = 0.0

    def close(self) -> None:
        self.sqlite.close()

    # --- registry of queues and who uses them ------------------------------------------

    def ensure_queue(self, conn: sqlite3.Connection, name: str) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO queues (name, created_on) VALUES (?, ?)", (name, self._clock())
        )

    def register(self, queue: str, worker: str, role: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            self.ensure_queue(conn, queue)
            conn.execute(
                "INSERT OR REPLACE INTO queue_bindings (queue, worker, role, seen) VALUES (?,?,?,?)",
                (queue, worker, role, self._clock()),
            )

        self.sqlite.call(op)

    def create_queue(self, name: str) -> bool:
        """Create ``name``; False when it already exists."""

        def op(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO queues (name, created_on) VALUES (?, ?)",
                (name, self._clock()),
            )
            return cur.rowcount == 1

        return self.sqlite.call(op)

    def delete_queue(self, name: str) -> bool:
        """Delete ``name`` and its messages; False when there was no such queue."""

        def op(conn: sqlite3.Connection) -> bool:
            with _transaction(conn):
                cur = conn.execute("DELETE FROM queues WHERE name = ?", (name,))
                conn.execute("DELETE FROM messages WHERE queue = ?", (name,))
                conn.execute("DELETE FROM queue_bindings WHERE queue = ?", (name,))
                return cur.rowcount == 1

        return self.sqlite.call(op)

    def queues(self) -> list[QueueInfo]:
        def op(conn: sqlite3.Connection) -> list[QueueInfo]:
            now = self._clock()
            out = []
            for name, created in conn.execute("SELECT name, created_on FROM queues ORDER BY name"):
                ready, delayed, flight = conn.execute(
                    "SELECT"
                    " COALESCE(SUM(lease IS NULL AND visible_at <= ?), 0),"
                    " COALESCE(SUM(lease IS NULL AND visible_at > ?), 0),"
                    " COALESCE(SUM(lease IS NOT NULL), 0)"
                    " FROM messages WHERE queue = ?",
                    (now, now, name),
                ).fetchone()
                roles: dict[str, list[str]] = {"producer": [], "consumer": []}
                for worker, role in conn.execute(
                    "SELECT worker, role FROM queue_bindings WHERE queue = ? ORDER BY worker",
                    (name,),
                ):
                    roles.setdefault(role, []).append(worker)
                out.append(
                    QueueInfo(
                        name,
                        created,
                        ready,
                        delayed,
                        flight,
                        tuple(roles["producer"]),
                        tuple(roles["consumer"]),
                    )
                )
            return out

        return self.sqlite.call(op)

    # --- producers ----------------------------------------------------------------------

    def enqueue(self, queue: str, messages: Iterable[NewMessage]) -> None:
        def op(conn: sqlite3.Connection) -> None:
            now = self._clock()
            with _transaction(conn):
                self.ensure_queue(conn, queue)
                conn.executemany(
                    "INSERT INTO messages"
                    " (queue, id, sent_ms, content_type, body, visible_at, trace)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (queue, m.id, m.sent_ms, m.content_type, m.body, now + m.delay, m.trace)
                        for m in messages
                    ],
                )

        self.sqlite.call(op)

    # --- consumers ----------------------------------------------------------------------

    def lease(
        self,
        queue: str,
        *,
        max_batch: int,
        batch_timeout: float,
        max_attempts: int,
        dead_letter_queue: str | None,
        lease_seconds: float,
        max_concurrency: int | None = None,
        pid: int | None = None,
    ) -> Lease:
        """Lease the next batch of ``queue`` when one is due: ``max_batch`` messages are
        ready, or the oldest ready one has waited ``batch_timeout`` seconds."""
        pid = os.getpid() if pid is None else pid
        now = self._clock()
        if now - self._last_sweep >= 0.5:
            self._last_sweep = now
            self.sqlite.call(lambda conn: self._release_orphans(conn, queue))

        def due(conn: sqlite3.Connection) -> Lease | None:
            """Read-only: when no batch is due, say when to look again (no write lock taken,
            so idle consumers polling the store cost no writes)."""
            now = self._clock()
            count, oldest = conn.execute(
                "SELECT COUNT(*), MIN(visible_at) FROM (SELECT visible_at FROM messages"
                " WHERE queue = ? AND visible_at <= ? AND (lease IS NULL OR lease_until <= ?)"
                " LIMIT ?)",
                (queue, now, now, max_batch),
            ).fetchone()
            if count == 0:
                (upcoming,) = conn.execute(
                    "SELECT MIN(visible_at) FROM messages WHERE queue = ? AND lease IS NULL",
                    (queue,),
                ).fetchone()
                return Lease(next_due=None if upcoming is None else max(upcoming, now))
            if count < max_batch and oldest + batch_timeout > now:
                return Lease(next_due=oldest + batch_timeout)
            return None

        waiting = self.sqlite.call(due)
        if waiting is not None:
            return waiting

        def op(conn: sqlite3.Connection) -> Lease:
            now = self._clock()
            with _transaction(conn):
                conn.execute(
                    "UPDATE messages SET lease = NULL, lease_until = NULL, lease_pid = NULL"
                    " WHERE queue = ? AND lease IS NOT NULL AND lease_until <= ?",
                    (queue, now),
                )
                if max_concurrency is not None:
                    (busy,) = conn.execute(
                        "SELECT COUNT(DISTINCT lease) FROM messages"
                        " WHERE queue = ? AND lease IS NOT NULL",
                        (queue,),
                    ).fetchone()
                    if busy >= max_concurrency:
                        return Lease(next_due=now + 0.05)
                rows = conn.execute(
                    "SELECT seq, id, sent_ms, content_type, body, attempts, visible_at, trace"
                    " FROM messages WHERE queue = ? AND lease IS NULL AND visible_at <= ?"
                    " ORDER BY visible_at, seq LIMIT ?",
                    (queue, now, max_batch),
                ).fetchall()
                # Messages whose earlier delivery died with its process are out of attempts.
                spent = [r for r in rows if r[5] >= max_attempts]
                dead = [(r[1], dead_letter_queue) for r in spent]
                if spent:
                    self._dead_letter(conn, [r[0] for r in spent], dead_letter_queue, now)
                    rows = [r for r in rows if r[5] < max_attempts]
                if not rows:
                    (upcoming,) = conn.execute(
                        "SELECT MIN(visible_at) FROM messages WHERE queue = ? AND lease IS NULL",
                        (queue,),
                    ).fetchone()
                    due = None if upcoming is None else max(upcoming, now)
                    return Lease(next_due=due, dead_lettered=dead)
                oldest = min(r[6] for r in rows)
                if len(rows) < max_batch and oldest + batch_timeout > now:
                    return Lease(next_due=oldest + batch_timeout, dead_lettered=dead)
                lease_id = uuid.uuid4().hex
                conn.executemany(
                    "UPDATE messages SET lease = ?, lease_until = ?, lease_pid = ?,"
                    " attempts = attempts + 1 WHERE seq = ?",
                    [(lease_id, now + lease_seconds, pid, r[0]) for r in rows],
                )
                messages = [
                    StoredMessage(r[1], r[2], r[3], r[4], r[5] + 1, r[7] or "") for r in rows
                ]
                return Lease(id=lease_id, messages=messages, dead_lettered=dead)

        return self.sqlite.call(op)

    def renew(self, lease_id: str, seconds: float) -> None:
        until = self._clock() + seconds
        self.sqlite.call(
            lambda conn: conn.execute(
                "UPDATE messages SET lease_until = ? WHERE lease = ?", (until, lease_id)
            )
        )

    def settle(
        self,
        lease_id: str,
        *,
        acked: set[str],
        retried: dict[str, float],
        max_attempts: int,
        dead_letter_queue: str | None,
    ) -> Settlement:
        """Apply a batch's outcome: ``acked`` ids are deleted, ``retried`` ids (id -> delay)
        come back after their delay or, out of attempts, go to the dead-letter queue."""

        def op(conn: sqlite3.Connection) -> Settlement:
            now = self._clock()
            done = retry = 0
            dead: list[tuple[str, str | None]] = []
            with _transaction(conn):
                rows = conn.execute(
                    "SELECT seq, id, attempts FROM messages WHERE lease = ?", (lease_id,)
                ).fetchall()
                deletes, spent, back = [], [], []
                for seq, mid, attempts in rows:
                    if mid in retried:
                        if attempts >= max_attempts:
                            spent.append(seq)
                            dead.append((mid, dead_letter_queue))
                        else:
                            back.append((now + retried[mid], seq))
                            retry += 1
                    else:
                        deletes.append((seq,))
                        done += 1
                conn.executemany("DELETE FROM messages WHERE seq = ?", deletes)
                conn.executemany(
                    "UPDATE messages SET lease = NULL, lease_until = NULL, lease_pid = NULL,"
                    " visible_at = ? WHERE seq = ?",
                    back,
                )
                if spent:
                    self._dead_letter(conn, spent, dead_letter_queue, now)
            return Settlement(done, retry, dead)

        return self.sqlite.call(op)

    def _dead_letter(
        self, conn: sqlite3.Connection, seqs: list[int], dlq: str | None, now: float
    ) -> None:
        """Move rows to ``dlq`` (same id and timestamp, attempts reset), or drop them."""
        if dlq is not None:
            self.ensure_queue(conn, dlq)
            conn.executemany(
                "UPDATE messages SET queue = ?, attempts = 0, visible_at = ?, lease = NULL,"
                " lease_until = NULL, lease_pid = NULL WHERE seq = ?",
                [(dlq, now, seq) for seq in seqs],
            )
        else:
            conn.executemany("DELETE FROM messages WHERE seq = ?", [(s,) for s in seqs])

    def _release_orphans(self, conn: sqlite3.Connection, queue: str) -> None:
        """Free leases whose process is gone (a consumer killed mid-batch)."""
        pids = [
            p
            for (p,) in conn.execute(
                "SELECT DISTINCT lease_pid FROM messages WHERE queue = ? AND lease IS NOT NULL",
                (queue,),
            )
            if p is not None
        ]
        for pid in pids:
            if pid != os.getpid() and not self._alive(pid):
                conn.execute(
                    "UPDATE messages SET lease = NULL, lease_until = NULL, lease_pid = NULL"
                    " WHERE queue = ? AND lease_pid = ?",
                    (queue, pid),
                )

    # --- inspection (CLI) ---------------------------------------------------------------

    def peek(self, queue: str, limit: int = 10) -> list[tuple[StoredMessage, str]]:
        """Up to ``limit`` messages of ``queue``, oldest first, with their state."""

        def op(conn: sqlite3.Connection) -> list[tuple[StoredMessage, str]]:
            now = self._clock()
            out = []
            for mid, sent, ctype, body, attempts, visible, lease in conn.execute(
                "SELECT id, sent_ms, content_type, body, attempts, visible_at, lease"
                " FROM messages WHERE queue = ? ORDER BY visible_at, seq LIMIT ?",
                (queue, limit),
            ):
                state = "in flight" if lease else "delayed" if visible > now else "ready"
                out.append((StoredMessage(mid, sent, ctype, body, attempts), state))
            return out

        return self.sqlite.call(op)

    def purge(self, queue: str) -> int:
        """Delete every message of ``queue``; returns how many there were."""
        return self.sqlite.call(
            lambda conn: conn.execute("DELETE FROM messages WHERE queue = ?", (queue,)).rowcount
        )

    def exists(self, queue: str) -> bool:
        return bool(
            self.sqlite.call(
                lambda conn: conn.execute(
                    "SELECT 1 FROM queues WHERE name = ?", (queue,)
                ).fetchone()
            )
        )


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (ROLLBACK on error) on an autocommit connection:
    the write lock is taken up front, so two processes leasing at once never both read the
    same free rows."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
