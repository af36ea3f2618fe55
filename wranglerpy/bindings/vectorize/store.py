"""One Vectorize index on disk: ``<persist>/vectorize/<name>/index.sqlite`` (the source of truth)
beside ``ann.usearch`` (the approximate index, a cache rebuilt from SQLite when missing or stale).

Every mutation takes the next numbers of one counter (``meta.seq``): a written vector's
``key`` is its number (a re-written id gets a new key and its old key a tombstone in
``deleted``). A process that last saw counter value ``s`` catches up by reading rows with
``key > s`` and tombstones with ``seq > s`` in one read transaction, so several worker
processes and the CLI share an index without reloading it whole.

``indexed`` holds what each metadata index recorded for a vector *when it was written*
(Cloudflare: vectors upserted before a metadata index exists are not in it).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.vectorize.filters import indexed_value
from wranglerpy.bindings.vectorize.values import VectorRecord, metadata_at

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    key INTEGER PRIMARY KEY,          -- the counter value of the write; the ANN label
    id TEXT NOT NULL UNIQUE,
    namespace TEXT,
    vals BLOB NOT NULL,               -- float32, little-endian
    metadata TEXT                     -- compact JSON or NULL
);
CREATE TABLE IF NOT EXISTS deleted (key INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS deleted_seq ON deleted (seq);
CREATE TABLE IF NOT EXISTS metadata_indexes (
    property TEXT PRIMARY KEY, type TEXT NOT NULL, created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS indexed (
    key INTEGER NOT NULL, property TEXT NOT NULL, value, PRIMARY KEY (key, property)
);
"""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class IndexConfig:
    name: str
    dimensions: int
    metric: str
    description: str
    created_on: str
    modified_on: str
    preset: str | None = None

    def details(self) -> dict[str, Any]:
        """The index as the Vectorize API describes it (wrangler's ``VectorizeIndex``)."""
        config: dict[str, Any] = {"dimensions": self.dimensions, "metric": self.metric}
        return {
            "name": self.name,
            "description": self.description,
            "config": config,
            "created_on": self.created_on,
            "modified_on": self.modified_on,
        }


@dataclass
class Delta:
    """What changed since a process last looked: new rows, removed keys, and (when the set of
    metadata indexes changed) every indexed value again."""

    seq: int
    keys: np.ndarray  # int64
    ids: list[str]
    namespaces: list[str | None]
    values: np.ndarray  # float32 (n, dimensions)
    indexed: list[tuple[int, str, Any]]
    removed: np.ndarray  # int64
    index_types: dict[str, str] | None  # set when metadata indexes changed
    indexes_version: int


def setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def write_config(conn: sqlite3.Connection, config: IndexConfig) -> None:
    rows = {
        "name": config.name,
        "dimensions": str(config.dimensions),
        "metric": config.metric,
        "description": config.description,
        "created_on": config.created_on,
        "modified_on": config.modified_on,
        "preset": config.preset or "",
        "seq": "0",
        "indexes_version": "0",
        "last_mutation": "",
        "last_mutation_on": config.created_on,
    }
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", rows.items())


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def config_from(meta: dict[str, str]) -> IndexConfig:
    return IndexConfig(
        name=meta["name"],
        dimensions=int(meta["dimensions"]),
        metric=meta["metric"],
        description=meta.get("description", ""),
        created_on=meta["created_on"],
        modified_on=meta.get("modified_on", meta["created_on"]),
        preset=meta.get("preset") or None,
    )


class IndexStore:
    """The SQLite half of one index; every method runs on the caller's thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sqlite = SQLiteStore(path, setup)
        self.config = config_from(self.sqlite.call(read_meta))

    def close(self) -> None:
        self.sqlite.close()

    # -- writes --------------------------------------------------------------------------

    def write(self, records: Sequence[VectorRecord], *, replace: bool) -> str:
        """Insert (``replace=False``: ids already present are skipped, as Cloudflare's insert
        does) or upsert ``records`` in one transaction; returns the mutation id."""
        mutation = str(uuid.uuid4())

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
                types = dict(conn.execute("SELECT property, type FROM metadata_indexes"))
                latest: dict[str, VectorRecord] = {}
                for record in records:  # the last write of an id in one batch wins
                    if replace or record.id not in latest:
                        latest[record.id] = record
                for record in latest.values():
                    old = conn.execute(
                        "SELECT key FROM vectors WHERE id = ?", (record.id,)
                    ).fetchone()
                    if old is not None and not replace:
                        continue
                    seq += 1
                    if old is not None:
                        self._tombstone(conn, old[0], seq)
                        seq += 1
                    self._insert(conn, seq, record, types)
                self._bump(conn, seq, mutation)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        self.sqlite.call(run)
        return mutation

    @staticmethod
    def _insert(
        conn: sqlite3.Connection, key: int, record: VectorRecord, types: dict[str, str]
    ) -> None:
        metadata = (
            None
            if record.metadata is None
            else json.dumps(record.metadata, separators=(",", ":"), ensure_ascii=False)
        )
        conn.execute(
            "INSERT INTO vectors (key, id, namespace, vals, metadata) VALUES (?, ?, ?, ?, ?)",
            (key, record.id, record.namespace, record.values.astype("<f4").tobytes(), metadata),
        )
        for prop, index_type in types.items():
            value = indexed_value(metadata_at(record.metadata, prop), index_type)
            if value is not None:
                conn.execute(
                    "INSERT INTO indexed (key, property, value) VALUES (?, ?, ?)",
                    (key, prop, value),
                )

    @staticmethod
    def _tombstone(conn: sqlite3.Connection, key: int, seq: int) -> None:
        conn.execute("DELETE FROM vectors WHERE key = ?", (key,))
        conn.execute("DELETE FROM indexed WHERE key = ?", (key,))
        conn.execute("INSERT INTO deleted (key, seq) VALUES (?, ?)", (key, seq))

    @staticmethod
    def _bump(conn: sqlite3.Connection, seq: int, mutation: str) -> None:
        conn.executemany(
            "UPDATE meta SET value = ? WHERE key = ?",
            [(str(seq), "seq"), (mutation, "last_mutation"), (now_iso(), "last_mutation_on")],
        )

    def delete(self, ids: Iterable[str]) -> str:
        mutation = str(uuid.uuid4())
        wanted = list(dict.fromkeys(ids))

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
                for vector_id in wanted:
                    row = conn.execute("SELECT key FROM vectors WHERE id = ?", (vector_id,))
                    found = row.fetchone()
                    if found is not None:
                        seq += 1
                        self._tombstone(conn, found[0], seq)
                self._bump(conn, seq, mutation)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        self.sqlite.call(run)
        return mutation

    def create_metadata_index(self, prop: str, index_type: str) -> str:
        mutation = str(uuid.uuid4())

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO metadata_indexes (property, type, created_on) VALUES (?, ?, ?)",
                    (prop, index_type, now_iso()),
                )
                conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                    "WHERE key = 'indexes_version'"
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        self.sqlite.call(run)
        return mutation

    def delete_metadata_index(self, prop: str) -> str:
        mutation = str(uuid.uuid4())

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM metadata_indexes WHERE property = ?", (prop,))
                conn.execute("DELETE FROM indexed WHERE property = ?", (prop,))
                conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                    "WHERE key = 'indexes_version'"
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        self.sqlite.call(run)
        return mutation

    # -- reads ---------------------------------------------------------------------------

    def metadata_indexes(self) -> list[tuple[str, str]]:
        return self.sqlite.call(
            lambda c: c.execute(
                "SELECT property, type FROM metadata_indexes ORDER BY created_on, property"
            ).fetchall()
        )

    def seq(self) -> int:
        return self.sqlite.call(
            lambda c: int(c.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
        )

    def info(self) -> dict[str, Any]:
        def run(conn: sqlite3.Connection) -> dict[str, Any]:
            meta = read_meta(conn)
            count = conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            return {
                "dimensions": int(meta["dimensions"]),
                "vectorCount": int(count),
                "processedUpToDatetime": meta.get("last_mutation_on") or meta["created_on"],
                "processedUpToMutation": meta.get("last_mutation") or "",
            }

        return self.sqlite.call(run)

    def changes_since(self, seq: int, indexes_version: int) -> Delta | None:
        """Everything written after counter value ``seq``; None when nothing was."""

        def run(conn: sqlite3.Connection) -> Delta | None:
            conn.execute("BEGIN")  # one snapshot for every read below
            try:
                meta = read_meta(conn)
                now = int(meta["seq"])
                version = int(meta.get("indexes_version", "0"))
                if now == seq and version == indexes_version:
                    return None
                rows = conn.execute(
                    "SELECT key, id, namespace, vals FROM vectors WHERE key > ? ORDER BY key",
                    (seq,),
                ).fetchall()
                removed = [
                    r[0] for r in conn.execute("SELECT key FROM deleted WHERE seq > ?", (seq,))
                ]
                types: dict[str, str] | None = None
                if version != indexes_version:
                    types = dict(conn.execute("SELECT property, type FROM metadata_indexes"))
                    indexed = conn.execute("SELECT key, property, value FROM indexed").fetchall()
                else:
                    indexed = conn.execute(
                        "SELECT key, property, value FROM indexed WHERE key > ?", (seq,)
                    ).fetchall()
                return _delta(now, rows, removed, indexed, types, version, self.config.dimensions)
            finally:
                conn.execute("COMMIT")

        return self.sqlite.call(run)

    def get(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Stored vectors by id, in the order asked, skipping unknown ids."""

        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            out = []
            for vector_id in dict.fromkeys(ids):
                row = conn.execute(
                    "SELECT id, namespace, vals, metadata FROM vectors WHERE id = ?",
                    (vector_id,),
                ).fetchone()
                if row is not None:
                    out.append(_vector_dict(*row))
            return out

        return self.sqlite.call(run)

    def metadata_for(self, keys: Sequence[int], level: str) -> dict[int, dict[str, Any]]:
        """Metadata of ``keys`` for a query result: every field (``all``) or only the indexed
        ones, as indexed (``indexed``: strings cut to 64 bytes, booleans as booleans)."""

        def run(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
            marks = ",".join("?" * len(keys))
            if level == "all":
                rows = conn.execute(
                    f"SELECT key, metadata FROM vectors WHERE key IN ({marks})", list(keys)
                )
                return {k: json.loads(m) for k, m in rows if m is not None}
            types = dict(conn.execute("SELECT property, type FROM metadata_indexes"))
            out: dict[int, dict[str, Any]] = {}
            for key, prop, value in conn.execute(
                f"SELECT key, property, value FROM indexed WHERE key IN ({marks})", list(keys)
            ):
                if types.get(prop) == "boolean":
                    value = bool(value)
                out.setdefault(key, {})[prop] = value
            return out

        if not keys:
            return {}
        return self.sqlite.call(run)

    def list_ids(self, count: int, cursor: str | None) -> tuple[list[str], int, str | None]:
        """A page of vector ids in id order, the total, and the next cursor (the last id)."""

        def run(conn: sqlite3.Connection) -> tuple[list[str], int, str | None]:
            total = conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            rows = conn.execute(
                "SELECT id FROM vectors WHERE id > ? ORDER BY id LIMIT ?",
                (cursor or "", count + 1),
            ).fetchall()
            ids = [r[0] for r in rows[:count]]
            more = len(rows) > count
            return ids, int(total), (ids[-1] if more and ids else None)

        return self.sqlite.call(run)


def _vector_dict(
    vector_id: str, namespace: str | None, vals: bytes, metadata: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": vector_id,
        "values": np.frombuffer(vals, dtype="<f4").astype(float).tolist(),
    }
    if namespace is not None:
        out["namespace"] = namespace
    if metadata is not None:
        out["metadata"] = json.loads(metadata)
    return out


def _delta(
    seq: int,
    rows: list[tuple[int, str, str | None, bytes]],
    removed: list[int],
    indexed: list[tuple[int, str, Any]],
    types: dict[str, str] | None,
    version: int,
    dimensions: int,
) -> Delta:
    values = np.empty((len(rows), dimensions), dtype=np.float32)
    for i, row in enumerate(rows):
        values[i] = np.frombuffer(row[3], dtype="<f4")
    return Delta(
        seq=seq,
        keys=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        ids=[r[1] for r in rows],
        namespaces=[r[2] for r in rows],
        values=values,
        indexed=indexed,
        removed=np.asarray(removed, dtype=np.int64),
        index_types=types,
        indexes_version=version,
    )
