"""``<persist>/do/metadata.sqlite``: applied migration tags and the alarm index.

Alarms live here rather than in each object's file so one query finds every due alarm after a
restart without opening thousands of object files. Several processes may host objects of one
namespace, so an alarm is *claimed* (a short lease) before it runs: it fires once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.bindings._sqlite import connect
from wranglerpy.bindings.durable_objects.paths import metadata_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS migrations (
  script TEXT NOT NULL, tag TEXT NOT NULL, position INTEGER NOT NULL, applied_at REAL NOT NULL,
  PRIMARY KEY (script, tag)
);
CREATE TABLE IF NOT EXISTS alarms (
  namespace TEXT NOT NULL, object_id TEXT NOT NULL,
  time_ms REAL NOT NULL,        -- what getAlarm() returns and alarm() is told
  run_at_ms REAL NOT NULL,      -- when it next runs (later than time_ms while retrying)
  retry INTEGER NOT NULL DEFAULT 0, backoff INTEGER NOT NULL DEFAULT 0,
  lease_until REAL NOT NULL DEFAULT 0,
  name TEXT,                    -- the id's name, so ctx.id.name is set in alarm()
  PRIMARY KEY (namespace, object_id)
);
"""


@dataclass(frozen=True)
class DueAlarm:
    namespace: str
    object_id: str
    time_ms: float
    retry: int
    backoff: int
    name: str | None = None


def now_ms() -> float:
    return time.time() * 1000


class Metadata:
    def __init__(self, persist_dir: Path) -> None:
        self.conn = connect(metadata_file(persist_dir))
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # --- migrations --------------------------------------------------------------------

    def applied_tags(self, script: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT tag FROM migrations WHERE script = ? ORDER BY position", (script,)
        )
        return [r[0] for r in rows]

    def record_tag(self, script: str, tag: str, position: int) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO migrations VALUES (?, ?, ?, ?)",
            (script, tag, position, time.time()),
        )

    # --- alarms ------------------------------------------------------------------------

    def get_alarm(self, namespace: str, object_id: str) -> float | None:
        row = self.conn.execute(
            "SELECT time_ms FROM alarms WHERE namespace = ? AND object_id = ?",
            (namespace, object_id),
        ).fetchone()
        return None if row is None else float(row[0])

    def set_alarm(
        self, namespace: str, object_id: str, time_ms: float, name: str | None = None
    ) -> None:
        self.conn.execute(
            "INSERT INTO alarms (namespace, object_id, time_ms, run_at_ms, name) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (namespace, object_id) DO UPDATE SET time_ms = excluded.time_ms, "
            "run_at_ms = excluded.run_at_ms, retry = 0, backoff = 0, lease_until = 0, "
            "name = excluded.name",
            (namespace, object_id, time_ms, time_ms, name),
        )

    def delete_alarm(self, namespace: str, object_id: str, time_ms: float | None = None) -> None:
        """Delete the alarm (only if it is still the one at ``time_ms``, when given)."""
        if time_ms is None:
            self.conn.execute(
                "DELETE FROM alarms WHERE namespace = ? AND object_id = ?", (namespace, object_id)
            )
        else:
            self.conn.execute(
                "DELETE FROM alarms WHERE namespace = ? AND object_id = ? AND time_ms = ?",
                (namespace, object_id, time_ms),
            )

    def delete_namespace_alarms(self, namespace: str) -> None:
        self.conn.execute("DELETE FROM alarms WHERE namespace = ?", (namespace,))

    def next_run(self, namespaces: Iterable[str]) -> float | None:
        names = list(namespaces)
        if not names:
            return None
        marks = ",".join("?" * len(names))
        row = self.conn.execute(
            f"SELECT MIN(MAX(run_at_ms, lease_until)) FROM alarms WHERE namespace IN ({marks})",
            names,
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def claim_due(self, namespaces: Iterable[str], lease_ms: float) -> list[DueAlarm]:
        """The due alarms of ``namespaces``, leased to the caller so no other process runs them."""
        names = list(namespaces)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        now = now_ms()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            rows = self.conn.execute(
                "SELECT namespace, object_id, time_ms, retry, backoff, name FROM alarms "
                f"WHERE namespace IN ({marks}) AND run_at_ms <= ? AND lease_until <= ?",
                (*names, now, now),
            ).fetchall()
            for ns, oid, *_ in rows:
                self.conn.execute(
                    "UPDATE alarms SET lease_until = ? WHERE namespace = ? AND object_id = ?",
                    (now + lease_ms, ns, oid),
                )
            self.conn.execute("COMMIT")
        except sqlite3.Error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return [DueAlarm(*row) for row in rows]

    def reschedule(self, alarm: DueAlarm, run_at_ms: float, retry: int, backoff: int) -> None:
        """Run the same alarm again later (a retry), unless it was replaced meanwhile."""
        self.conn.execute(
            "UPDATE alarms SET run_at_ms = ?, retry = ?, backoff = ?, lease_until = 0 "
            "WHERE namespace = ? AND object_id = ? AND time_ms = ?",
            (run_at_ms, retry, backoff, alarm.namespace, alarm.object_id, alarm.time_ms),
        )

    def release(self, alarm: DueAlarm) -> None:
        self.conn.execute(
            "UPDATE alarms SET lease_until = 0 WHERE namespace = ? AND object_id = ?",
            (alarm.namespace, alarm.object_id),
        )
