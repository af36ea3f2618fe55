"""D1, locally: ``create(config, persist_dir)`` gives the object behind ``env.<DB>``.

State: ``<persist_dir>/d1/<storage id>/db.sqlite``, where the storage id is the config's
``database_id``, else its ``database_name``, else the binding name. Every worker and the CLI
naming the same database share that one file.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.bindings.d1.binding import D1DatabaseBinding, D1PreparedStatement
from wranglerpy.bindings.d1.sql import D1Error, split_sql
from wranglerpy.bindings.d1.store import D1Store, SQLiteD1Store
from wranglerpy.config.schema import D1Database

__all__ = [
    "D1DatabaseBinding",
    "D1Error",
    "D1PreparedStatement",
    "D1Store",
    "SQLiteD1Store",
    "create",
    "database_path",
    "split_sql",
]

DB_FILE = "db.sqlite"


def database_path(persist_dir: Path, storage_id: str) -> Path:
    """Where the database with ``storage_id`` is stored under ``persist_dir``."""
    return state_dir(persist_dir, "d1", storage_id) / DB_FILE


def create(config: D1Database, persist_dir: Path) -> D1DatabaseBinding:
    return D1DatabaseBinding(
        database_path(persist_dir, config.storage_id), name=config.database_name or config.binding
    )
