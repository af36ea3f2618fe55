"""Pending D1 migrations, applied when ``dev`` starts (``--no-apply-migrations`` turns it off).

wrangler leaves this to ``wrangler d1 migrations apply --local``; applying them at start means
a fresh clone answers its first request with its schema in place. Each database is migrated
once even when several workers bind it, and every applied file is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.logs.hub import LogHub


async def apply_pending_migrations(
    workers: list[WorkerConfig], persist_dir_for: Callable[[WorkerConfig], Path], hub: LogHub
) -> None:
    done: set[tuple[Path, str]] = set()
    for worker in workers:
        for config in worker.d1_databases:
            persist = persist_dir_for(worker).resolve()
            folder = worker.root / config.migrations_dir
            key = (persist, config.storage_id)
            if key in done or not folder.is_dir():
                continue
            done.add(key)
            # Imported here: a start without a migrations folder does not need D1's code.
            from wranglerpy.bindings.d1 import create
            from wranglerpy.bindings.d1.admin import Migration, MigrationError, apply_migrations

            db = create(config, persist)
            label = config.database_name or config.binding

            def report(migration: Migration, label: str = label, owner: str = worker.name) -> None:
                hub.system(
                    f"🌀 Applied migration {migration.name} to {label} (local)", worker=owner
                )

            try:
                await apply_migrations(db, folder, config.migrations_table, report)
            except MigrationError as exc:
                hub.system(f"✘ {exc}", worker=worker.name, level="error")
            finally:
                db.close()
