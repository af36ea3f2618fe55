"""The local set of Vectorize indexes: ``<persist>/vectorize/<name>/``, one folder per index.

Creating an index writes its SQLite file under a temporary name and renames the folder into
place, so an index is either fully there (with its dimensions and metric) or absent.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import connect
from wranglerpy.bindings.vectorize.limits import (
    MAX_DIMENSIONS,
    MAX_INDEX_NAME_BYTES,
    METRICS,
    PRESETS,
    IndexNotFoundError,
)
from wranglerpy.bindings.vectorize.store import (
    IndexConfig,
    config_from,
    now_iso,
    read_meta,
    setup,
    write_config,
)
from wranglerpy.errors import BindingError, UsageError
from wranglerpy.private_paths import private_dir

DB_FILE = "index.sqlite"
KIND = "vectorize"
# Index names as the dashboard accepts them: letters, digits, "-" and "_".
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise UsageError(
            f'Invalid Vectorize index name "{name}": use letters, digits, "-" and "_", '
            "starting with a letter or digit."
        )
    if len(name.encode()) > MAX_INDEX_NAME_BYTES:
        raise UsageError(
            f'Vectorize index name "{name}" is longer than {MAX_INDEX_NAME_BYTES} bytes.'
        )
    return name


def index_dir(persist_dir: Path, name: str) -> Path:
    return persist_dir / KIND / check_name(name)


def index_path(persist_dir: Path, name: str) -> Path:
    return index_dir(persist_dir, name) / DB_FILE


def create_index(
    persist_dir: Path,
    name: str,
    *,
    dimensions: int | None = None,
    metric: str | None = None,
    preset: str | None = None,
    description: str = "",
) -> IndexConfig:
    """Create an empty index; the config comes from ``preset`` or from dimensions+metric."""
    if preset is not None:
        if preset not in PRESETS:
            raise UsageError(f'Unknown preset "{preset}"; choose one of {", ".join(PRESETS)}.')
        dimensions, metric = PRESETS[preset]
    if dimensions is None or metric is None:
        raise UsageError(
            "You must provide both dimensions and a metric, or a known model preset when "
            "creating an index."
        )
    if metric not in METRICS:
        raise UsageError(f'Unknown metric "{metric}"; choose one of {", ".join(METRICS)}.')
    if not 1 <= dimensions <= MAX_DIMENSIONS:
        raise UsageError(
            f"Vectorize indexes have between 1 and {MAX_DIMENSIONS} dimensions, got {dimensions}."
        )
    target = index_dir(persist_dir, name)
    if target.exists():
        raise BindingError(f'A Vectorize index named "{name}" already exists.')
    now = now_iso()
    config = IndexConfig(name, dimensions, metric, description, now, now, preset)
    staging = target.with_name(f".{name}.{os.getpid()}.creating")
    shutil.rmtree(staging, ignore_errors=True)
    private_dir(staging)
    try:
        conn = connect(staging / DB_FILE)
        try:
            setup(conn)
            write_config(conn, config)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        try:
            staging.rename(target)
        except OSError:
            raise BindingError(f'A Vectorize index named "{name}" already exists.') from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return config


def get_index(persist_dir: Path, name: str) -> IndexConfig:
    path = index_path(persist_dir, name)
    if not path.is_file():
        raise IndexNotFoundError(name)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return config_from(read_meta(conn))


def list_indexes(persist_dir: Path) -> list[IndexConfig]:
    folder = persist_dir / KIND
    if not folder.is_dir():
        return []
    out = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or not (child / DB_FILE).is_file():
            continue
        with contextlib.closing(sqlite3.connect(child / DB_FILE)) as conn:
            out.append(config_from(read_meta(conn)))
    return out


def delete_index(persist_dir: Path, name: str) -> None:
    target = index_dir(persist_dir, name)
    if not (target / DB_FILE).is_file():
        raise IndexNotFoundError(name)
    # Rename first: a running worker sees the index gone at once, never half-deleted.
    doomed = target.with_name(f".{name}.{os.getpid()}.deleting")
    target.rename(doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def describe_rows(configs: list[IndexConfig]) -> list[dict[str, Any]]:
    return [c.details() for c in configs]
