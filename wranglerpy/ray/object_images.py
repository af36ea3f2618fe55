"""The durable copy of every Durable Object's storage on the Ray target, kept by the primary.

An object runs in its own actor on some node and keeps its storage in a local SQLite file
there (the dev implementation, unchanged: sync reads, write coalescing, gates). That file is a
cache: before a result leaves the object, the file's image (and the image of its alarm index)
is saved here, on the primary's node. When the object's node is lost, the next instance
(on another node) opens the last saved image, so nothing acknowledged is lost.

Each instance opens an object with a new *epoch*; a save carrying an older epoch is refused,
so an instance that was replaced (its node cut off rather than dead, or an old version's
actor during a rollout) can never overwrite what its successor wrote.

The table also records how to start each worker's objects (``targets``): the version, its
spec, its source folder and its Ray runtime environment, written by ``deploy``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import connect

FILE = "durable-objects.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  key TEXT PRIMARY KEY,          -- "<worker>-<class>:<id>"
  epoch INTEGER NOT NULL,        -- bumped by every instance that opens the object
  storage BLOB,                  -- the object's SQLite file image
  alarms BLOB,                   -- the image of its alarm index (metadata.sqlite)
  alarm_ms REAL,                 -- its next alarm, if any
  saved_at REAL,
  holder TEXT                    -- the actor of the instance that opened it last
);
CREATE TABLE IF NOT EXISTS targets (worker TEXT PRIMARY KEY, target TEXT NOT NULL);
"""

# (epoch, storage image, alarm index image, the actor that held the object before, if any)
Opened = tuple[int, bytes | None, bytes | None, str | None]


def object_key(namespace: str, object_id: str) -> str:
    return f"{namespace}:{object_id}"


class ObjectImages:
    def __init__(self, persist_dir: Path) -> None:
        self.conn = connect(persist_dir / FILE)
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def open(self, key: str, holder: str = "") -> Opened:
        """Start a new instance of ``key`` (in actor ``holder``): its epoch, the last saved
        images and the actor that held it before."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT holder FROM objects WHERE key = ?", (key,)).fetchone()
            self.conn.execute(
                "INSERT INTO objects (key, epoch, holder) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET epoch = epoch + 1, holder = excluded.holder",
                (key, holder),
            )
            epoch, storage, alarms = self.conn.execute(
                "SELECT epoch, storage, alarms FROM objects WHERE key = ?", (key,)
            ).fetchone()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        previous = row[0] if row is not None and row[0] else None
        return int(epoch), storage, alarms, previous

    def save(
        self,
        key: str,
        epoch: int,
        storage: bytes | None,
        alarms: bytes | None,
        alarm_ms: float | None,
    ) -> bool:
        """Keep the images of instance ``epoch``; False when a newer instance opened it."""
        cursor = self.conn.execute(
            "UPDATE objects SET storage = ?, alarms = ?, alarm_ms = ?, saved_at = ? "
            "WHERE key = ? AND epoch = ?",
            (storage, alarms, alarm_ms, time.time(), key, epoch),
        )
        return cursor.rowcount == 1

    def epoch(self, key: str) -> int | None:
        row = self.conn.execute("SELECT epoch FROM objects WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def set_target(self, worker: str, target: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO targets VALUES (?, ?)", (worker, json.dumps(target))
        )

    def target(self, worker: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT target FROM targets WHERE worker = ?", (worker,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))
