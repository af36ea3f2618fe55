"""Local object state for the CLI: namespaces, objects and their sizes, one key, deleting one
object. Works beside a running ``dev`` (WAL lets both read); deleting removes the files."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wranglerpy.bindings.durable_objects import clone
from wranglerpy.bindings.durable_objects.ids import IdFactory, unique_key
from wranglerpy.bindings.durable_objects.metadata import Metadata
from wranglerpy.bindings.durable_objects.paths import KIND, namespace_dir
from wranglerpy.errors import StateError

_HEX_ID = HEX_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ObjectInfo:
    object_id: str
    name: str | None
    size: int
    keys: int


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in _files(path) if p.exists())


def namespaces_root(persist_dir: Path) -> Path:
    return persist_dir / KIND


def namespaces(persist_dir: Path) -> list[tuple[str, int, int]]:
    """``(namespace, objects, bytes)`` for every namespace folder under ``<persist>/do``."""
    root = namespaces_root(persist_dir)
    if not root.is_dir():
        return []
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.sqlite"))
        rows.append((folder.name, len(files), sum(_size(f) for f in files)))
    return rows


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def objects(persist_dir: Path, worker: str, class_name: str) -> list[ObjectInfo]:
    folder = namespace_dir(persist_dir, unique_key(worker, class_name))
    return objects_in(folder)[0]


def objects_in(
    folder: Path, offset: int = 0, limit: int | None = None
) -> tuple[list[ObjectInfo], int]:
    """The objects stored in one namespace folder (a page of them, by id) and how many there are."""
    paths = sorted(folder.glob("*.sqlite"))
    out = []
    end = None if limit is None else offset + limit
    for path in paths[offset:end]:
        name = None
        keys = 0
        with contextlib.closing(_read_only(path)) as conn:
            with contextlib.suppress(sqlite3.Error):
                row = conn.execute("SELECT value FROM _cf_META WHERE key = 'name'").fetchone()
                name = row[0] if row else None
            with contextlib.suppress(sqlite3.Error):
                keys = conn.execute("SELECT count(*) FROM _cf_KV").fetchone()[0]
        out.append(ObjectInfo(path.stem, name, _size(path), keys))
    return out, len(paths)


def stored_keys(path: Path, after: str | None, limit: int) -> list[tuple[str, Any]]:
    """Up to ``limit`` ``(key, value)`` pairs of one object's storage, in key order after
    ``after`` (the dashboard pages through them)."""
    with contextlib.closing(_read_only(path)) as conn:
        try:
            if after is None:
                sql, args = "SELECT key, value FROM _cf_KV ORDER BY key LIMIT ?", (limit,)
            else:
                sql = "SELECT key, value FROM _cf_KV WHERE key > ? ORDER BY key LIMIT ?"
                args = (after, limit)  # type: ignore[assignment]
            rows = conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # no key was ever put: the table is not there
            return []
    return [(str(key), clone.decode(value)) for key, value in rows]


def resolve_id(worker: str, class_name: str, id_or_name: str) -> str:
    """A 64-hex id as given (checked against the namespace), else the id of that name."""
    factory = IdFactory(unique_key(worker, class_name))
    if _HEX_ID.fullmatch(id_or_name):
        try:
            return factory.from_string(id_or_name).toString()
        except TypeError as exc:
            raise StateError(f"{id_or_name}: {exc}") from None
    return factory.from_name(id_or_name).toString()


def _object_path(persist_dir: Path, worker: str, class_name: str, id_or_name: str) -> Path:
    object_id = resolve_id(worker, class_name, id_or_name)
    path = namespace_dir(persist_dir, unique_key(worker, class_name)) / f"{object_id}.sqlite"
    if not path.exists():
        raise StateError(f'No stored Durable Object {class_name} "{id_or_name}" ({object_id}).')
    return path


def read_key(persist_dir: Path, worker: str, class_name: str, id_or_name: str, key: str) -> Any:
    path = _object_path(persist_dir, worker, class_name, id_or_name)
    with contextlib.closing(_read_only(path)) as conn:
        row = conn.execute("SELECT value FROM _cf_KV WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise StateError(f'Key "{key}" not found in Durable Object {class_name} "{id_or_name}".')
    return clone.decode(row[0])


def delete_object(persist_dir: Path, worker: str, class_name: str, id_or_name: str) -> str:
    """Delete one object's storage (its SQLite files and its alarm); return its id."""
    path = _object_path(persist_dir, worker, class_name, id_or_name)
    for file in _files(path):
        file.unlink(missing_ok=True)
    meta = Metadata(persist_dir)
    try:
        meta.delete_alarm(unique_key(worker, class_name), path.stem)
    finally:
        meta.close()
    return path.stem
