"""The local workflow store: instances, completed steps and events in one SQLite file.

Any worker may insert an instance (``create``) or an event (``send_event``); the worker that
defines the workflow class *claims* runnable instances with a lease (id, expiry, pid), runs
them and stores each completed step's result, so a replay after a restart skips it. A lease
that expires, or whose process is gone, lets another engine (or the restarted one) claim the
instance again. ``generation`` grows on restart, so a run of the previous generation stops.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.queues.store import _transaction
from wranglerpy.host.locations import pid_alive

DB_FILE = "workflows.sqlite"
RUNNABLE = ("queued", "running", "waiting")
FINAL = ("complete", "errored", "terminated")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    workflow TEXT NOT NULL,
    id TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    created_on REAL NOT NULL,
    modified_on REAL NOT NULL,
    started_on REAL,
    ended_on REAL,
    output TEXT,
    error TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    lease TEXT,
    lease_until REAL,
    lease_pid INTEGER,
    PRIMARY KEY (workflow, id)
);
CREATE INDEX IF NOT EXISTS instances_runnable ON instances (workflow, status, lease_until);
CREATE TABLE IF NOT EXISTS steps (
    workflow TEXT NOT NULL,
    instance TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    until REAL,
    started_on REAL NOT NULL,
    ended_on REAL,
    PRIMARY KEY (workflow, instance, key)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow TEXT NOT NULL,
    instance TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    timestamp REAL NOT NULL,
    consumed_by TEXT
);
CREATE INDEX IF NOT EXISTS events_waiting ON events (workflow, instance, type, consumed_by);
"""


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def store_path(persist_dir: Path) -> Path:
    return persist_dir / "workflows" / DB_FILE


@dataclass(frozen=True)
class InstanceRow:
    workflow: str
    id: str
    params: str
    status: str
    created_on: float
    modified_on: float
    started_on: float | None
    ended_on: float | None
    output: str | None
    error: str | None
    generation: int
    lease: str | None


@dataclass(frozen=True)
class StepRow:
    key: str
    name: str
    kind: str
    state: str  # running | done | failed
    attempts: int
    result: str | None
    error: str | None
    until: float | None
    started_on: float
    ended_on: float | None


_INSTANCE_COLS = (
    "workflow, id, params, status, created_on, modified_on, started_on, ended_on, output, error,"
    " generation, lease"
)
_STEP_COLS = "key, name, kind, state, attempts, result, error, until, started_on, ended_on"


class WorkflowStore:
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

    def close(self) -> None:
        self.sqlite.close()

    def now(self) -> float:
        return self._clock()

    # --- instances ----------------------------------------------------------------------

    def create(self, workflow: str, instances: list[tuple[str, str]]) -> list[str]:
        """Insert ``(id, params json)`` rows as queued; returns the ids that already existed
        (nothing is inserted then)."""

        def op(conn: sqlite3.Connection) -> list[str]:
            now = self._clock()
            with _transaction(conn):
                taken = [
                    iid
                    for iid, _ in instances
                    if conn.execute(
                        "SELECT 1 FROM instances WHERE workflow = ? AND id = ?", (workflow, iid)
                    ).fetchone()
                ]
                if taken:
                    return taken
                conn.executemany(
                    "INSERT INTO instances (workflow, id, params, status, created_on, modified_on)"
                    " VALUES (?, ?, ?, 'queued', ?, ?)",
                    [(workflow, iid, params, now, now) for iid, params in instances],
                )
            return []

        return self.sqlite.call(op)

    def get(self, workflow: str, iid: str) -> InstanceRow | None:
        row = self.sqlite.call(
            lambda c: c.execute(
                f"SELECT {_INSTANCE_COLS} FROM instances WHERE workflow = ? AND id = ?",
                (workflow, iid),
            ).fetchone()
        )
        return InstanceRow(*row) if row else None

    def instances(
        self, workflow: str, status: str | None = None, limit: int = 50
    ) -> list[InstanceRow]:
        sql = f"SELECT {_INSTANCE_COLS} FROM instances WHERE workflow = ?"
        args: list[Any] = [workflow]
        if status:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY created_on DESC LIMIT ?"
        args.append(limit)
        rows = self.sqlite.call(lambda c: c.execute(sql, args).fetchall())
        return [InstanceRow(*r) for r in rows]

    def workflows(self) -> list[tuple[str, dict[str, int]]]:
        """Every workflow with instances, and its count of instances per status."""

        def op(conn: sqlite3.Connection) -> list[tuple[str, dict[str, int]]]:
            out: dict[str, dict[str, int]] = {}
            for wf, status, n in conn.execute(
                "SELECT workflow, status, COUNT(*) FROM instances GROUP BY workflow, status"
            ):
                out.setdefault(wf, {})[status] = n
            return sorted(out.items())

        return self.sqlite.call(op)

    def set_status(self, workflow: str, iid: str, status: str, **fields: Any) -> None:
        cols = ["status = ?", "modified_on = ?"]
        args: list[Any] = [status, self._clock()]
        for name, value in fields.items():
            cols.append(f"{name} = ?")
            args.append(value)
        args += [workflow, iid]
        self.sqlite.call(
            lambda c: c.execute(
                f"UPDATE instances SET {', '.join(cols)} WHERE workflow = ? AND id = ?", args
            )
        )

    def finish(
        self,
        workflow: str,
        iid: str,
        lease: str,
        status: str,
        output: str | None,
        error: str | None,
    ) -> bool:
        """Record the end of a run, unless the lease was lost meanwhile; frees the lease."""

        def op(conn: sqlite3.Connection) -> bool:
            now = self._clock()
            cur = conn.execute(
                "UPDATE instances SET status = ?, output = ?, error = ?, ended_on = ?,"
                " modified_on = ?, lease = NULL, lease_until = NULL, lease_pid = NULL"
                " WHERE workflow = ? AND id = ? AND lease = ? AND status NOT IN (?, ?, ?)",
                (status, output, error, now, now, workflow, iid, lease, *FINAL),
            )
            return cur.rowcount == 1

        return self.sqlite.call(op)

    def release(self, workflow: str, iid: str, lease: str) -> None:
        self.sqlite.call(
            lambda c: c.execute(
                "UPDATE instances SET lease = NULL, lease_until = NULL, lease_pid = NULL"
                " WHERE workflow = ? AND id = ? AND lease = ?",
                (workflow, iid, lease),
            )
        )

    def control(self, workflow: str, iid: str) -> tuple[str, int, str | None] | None:
        """``(status, generation, lease)``: what a running engine checks between steps."""
        row = self.sqlite.call(
            lambda c: c.execute(
                "SELECT status, generation, lease FROM instances WHERE workflow = ? AND id = ?",
                (workflow, iid),
            ).fetchone()
        )
        return (row[0], row[1], row[2]) if row else None

    def restart(self, workflow: str, iid: str) -> None:
        """Forget every step and event use, and queue the instance again (new generation)."""

        def op(conn: sqlite3.Connection) -> None:
            now = self._clock()
            with _transaction(conn):
                conn.execute(
                    "DELETE FROM steps WHERE workflow = ? AND instance = ?", (workflow, iid)
                )
                conn.execute(
                    "UPDATE events SET consumed_by = NULL WHERE workflow = ? AND instance = ?",
                    (workflow, iid),
                )
                conn.execute(
                    "UPDATE instances SET status = 'queued', output = NULL, error = NULL,"
                    " started_on = NULL, ended_on = NULL, modified_on = ?,"
                    " generation = generation + 1, lease = NULL, lease_until = NULL,"
                    " lease_pid = NULL WHERE workflow = ? AND id = ?",
                    (now, workflow, iid),
                )

        self.sqlite.call(op)

    # --- claiming -----------------------------------------------------------------------

    def claim(
        self, workflow: str, lease_seconds: float, limit: int
    ) -> list[tuple[InstanceRow, str]]:
        """Lease up to ``limit`` runnable instances nobody holds; ``(row, lease id)`` each."""
        self.sqlite.call(lambda c: self._release_orphans(c, workflow))

        def any_runnable(conn: sqlite3.Connection) -> bool:
            # Read-only first: an idle engine's poll takes no write lock.
            return bool(
                conn.execute(
                    "SELECT 1 FROM instances WHERE workflow = ? AND status IN (?, ?, ?)"
                    " AND (lease IS NULL OR lease_until <= ?) LIMIT 1",
                    (workflow, *RUNNABLE, self._clock()),
                ).fetchone()
            )

        if not self.sqlite.call(any_runnable):
            return []

        def op(conn: sqlite3.Connection) -> list[tuple[InstanceRow, str]]:
            now = self._clock()
            with _transaction(conn):
                rows = conn.execute(
                    f"SELECT {_INSTANCE_COLS} FROM instances WHERE workflow = ?"
                    " AND status IN (?, ?, ?) AND (lease IS NULL OR lease_until <= ?)"
                    " ORDER BY created_on LIMIT ?",
                    (workflow, *RUNNABLE, now, limit),
                ).fetchall()
                out = []
                for row in rows:
                    lease = uuid.uuid4().hex
                    conn.execute(
                        "UPDATE instances SET lease = ?, lease_until = ?, lease_pid = ?"
                        " WHERE workflow = ? AND id = ?",
                        (lease, now + lease_seconds, os.getpid(), workflow, row[1]),
                    )
                    out.append((InstanceRow(*row), lease))
                return out

        return self.sqlite.call(op)

    def renew(self, workflow: str, leases: list[str], seconds: float) -> None:
        until = self._clock() + seconds
        self.sqlite.call(
            lambda c: c.executemany(
                "UPDATE instances SET lease_until = ? WHERE workflow = ? AND lease = ?",
                [(until, workflow, lease) for lease in leases],
            )
        )

    def _release_orphans(self, conn: sqlite3.Connection, workflow: str) -> None:
        pids = [
            p
            for (p,) in conn.execute(
                "SELECT DISTINCT lease_pid FROM instances WHERE workflow = ? AND lease IS NOT NULL",
                (workflow,),
            )
            if p is not None
        ]
        for pid in pids:
            if pid != os.getpid() and not self._alive(pid):
                conn.execute(
                    "UPDATE instances SET lease = NULL, lease_until = NULL, lease_pid = NULL"
                    " WHERE workflow = ? AND lease_pid = ?",
                    (workflow, pid),
                )

    # --- steps --------------------------------------------------------------------------

    def step(self, workflow: str, iid: str, key: str) -> StepRow | None:
        row = self.sqlite.call(
            lambda c: c.execute(
                f"SELECT {_STEP_COLS} FROM steps WHERE workflow = ? AND instance = ? AND key = ?",
                (workflow, iid, key),
            ).fetchone()
        )
        return StepRow(*row) if row else None

    def steps(self, workflow: str, iid: str) -> list[StepRow]:
        rows = self.sqlite.call(
            lambda c: c.execute(
                f"SELECT {_STEP_COLS} FROM steps WHERE workflow = ? AND instance = ?"
                " ORDER BY started_on, rowid",
                (workflow, iid),
            ).fetchall()
        )
        return [StepRow(*r) for r in rows]

    def put_step(
        self,
        workflow: str,
        iid: str,
        key: str,
        name: str,
        kind: str,
        state: str,
        *,
        lease: str,
        attempts: int = 0,
        result: str | None = None,
        error: str | None = None,
        until: float | None = None,
    ) -> bool:
        """Record a step's state, only while ``lease`` still holds the instance (a run that
        lost it to a restart or another engine must not write); False when it did not."""

        def op(conn: sqlite3.Connection) -> bool:
            now = self._clock()
            ended = now if state in ("done", "failed") else None
            cur = conn.execute(
                "INSERT INTO steps (workflow, instance, key, name, kind, state, attempts, result,"
                " error, until, started_on, ended_on) SELECT ?,?,?,?,?,?,?,?,?,?,?,?"
                " WHERE EXISTS (SELECT 1 FROM instances WHERE workflow = ? AND id = ?"
                " AND lease = ?)"
                " ON CONFLICT (workflow, instance, key) DO UPDATE SET state = excluded.state,"
                " attempts = excluded.attempts, result = excluded.result, error = excluded.error,"
                " until = excluded.until, ended_on = excluded.ended_on",
                (workflow, iid, key, name, kind, state, attempts, result, error, until, now, ended,
                 workflow, iid, lease),
            )  # fmt: skip
            return cur.rowcount == 1

        return self.sqlite.call(op)

    # --- events -------------------------------------------------------------------------

    def send_event(self, workflow: str, iid: str, event_type: str, payload: str) -> None:
        self.sqlite.call(
            lambda c: c.execute(
                "INSERT INTO events (workflow, instance, type, payload, timestamp)"
                " VALUES (?, ?, ?, ?, ?)",
                (workflow, iid, event_type, payload, self._clock()),
            )
        )

    def take_event(
        self, workflow: str, iid: str, event_type: str, step_key: str
    ) -> tuple[str, float] | None:
        """The oldest unconsumed event of ``event_type``, marked as used by ``step_key``."""

        def op(conn: sqlite3.Connection) -> tuple[str, float] | None:
            with _transaction(conn):
                row = conn.execute(
                    "SELECT seq, payload, timestamp FROM events WHERE workflow = ? AND"
                    " instance = ? AND type = ? AND consumed_by IS NULL ORDER BY seq LIMIT 1",
                    (workflow, iid, event_type),
                ).fetchone()
                if row is None:
                    return None
                conn.execute("UPDATE events SET consumed_by = ? WHERE seq = ?", (step_key, row[0]))
                return row[1], row[2]

        return self.sqlite.call(op)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
