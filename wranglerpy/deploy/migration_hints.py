"""Advice printed after a deploy: what ``deploy`` deliberately does not do for you.

As with ``wrangler deploy``, D1 migrations are not applied by a deploy: the edge keeps its
own data (``<edge>/state`` by default), so a fresh edge needs them applied there once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from wranglerpy.config.schema import WorkerConfig


def pending_migrations(
    config: WorkerConfig, persist_dir: Path, skip: set[str] | None = None
) -> list[tuple[str, int]]:
    """``(database name, unapplied migrations)`` for each D1 database of ``config`` whose
    storage id is not in ``skip``; the ids looked at are added to ``skip``."""
    from wranglerpy.bindings.d1 import create
    from wranglerpy.bindings.d1.admin import migration_files, unapplied

    seen = skip if skip is not None else set()
    found: list[tuple[str, int]] = []
    for database in config.d1_databases:
        if database.storage_id in seen:
            continue
        seen.add(database.storage_id)
        folder = config.root / database.migrations_dir
        if not folder.is_dir() or not migration_files(folder):
            continue
        db = create(database, persist_dir)
        try:
            pending = asyncio.run(unapplied(db, folder, database.migrations_table))
        except Exception:  # noqa: BLE001 - advice only: a database we cannot read is not an error here
            continue
        finally:
            db.close()
        if pending:
            found.append((database.database_name or database.binding, len(pending)))
    return found


def migration_hints(
    config: WorkerConfig, persist_dir: Path, shown: set[str] | None = None
) -> list[str]:
    """One line per database with unapplied migrations. ``shown`` carries the databases
    already hinted at across the workers of one deploy (two workers sharing a database get
    one line, not two)."""
    lines = []
    env = f" --env {config.env_name}" if config.env_name else ""
    for name, count in pending_migrations(config, persist_dir, shown):
        lines.append(
            f"▲ D1 database {name} has {count} migration(s) not applied on the edge; deploy does "
            f"not apply them. Run: wranglerpy d1 migrations apply {name} -c {config.config_path}"
            f"{env} --persist-to {persist_dir}"
        )
    return lines
