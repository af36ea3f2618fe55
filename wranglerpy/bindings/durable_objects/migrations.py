"""Apply ``[[migrations]]`` to local object storage, once per tag, in order.

The applied tags are recorded in ``metadata.sqlite``; a worker process applies the ones not
yet recorded under a write lock, so several processes starting together apply each once.
``renamed_classes`` and ``transferred_classes`` move a class's objects to the new name,
``deleted_classes`` deletes them and their alarms.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from wranglerpy.bindings.durable_objects.ids import unique_key
from wranglerpy.bindings.durable_objects.metadata import Metadata
from wranglerpy.bindings.durable_objects.paths import namespace_dir
from wranglerpy.config.durable_objects import Migration
from wranglerpy.private_paths import private_dir


def _move(src: Path, dst: Path) -> None:
    if not src.exists():
        return
    private_dir(dst.parent)
    if dst.exists():
        for item in src.iterdir():
            shutil.move(str(item), str(dst / item.name))
        src.rmdir()
    else:
        src.rename(dst)


def apply_migrations(
    persist_dir: Path, worker: str, migrations: tuple[Migration, ...], metadata: Metadata
) -> list[str]:
    """Apply the migrations not applied yet; return their tags."""
    conn = metadata.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        applied = set(metadata.applied_tags(worker))
        done: list[str] = []
        for position, m in enumerate(migrations):
            if m.tag in applied:
                continue
            for name in m.deleted_classes:
                key = unique_key(worker, name)
                shutil.rmtree(namespace_dir(persist_dir, key), ignore_errors=True)
                metadata.delete_namespace_alarms(key)
            for rename in m.renamed_classes:
                src, dst = unique_key(worker, rename.from_), unique_key(worker, rename.to)
                _move(namespace_dir(persist_dir, src), namespace_dir(persist_dir, dst))
                conn.execute("UPDATE alarms SET namespace = ? WHERE namespace = ?", (dst, src))
            for transfer in m.transferred_classes:
                src = unique_key(transfer.from_script, transfer.from_)
                dst = unique_key(worker, transfer.to)
                _move(namespace_dir(persist_dir, src), namespace_dir(persist_dir, dst))
                conn.execute("UPDATE alarms SET namespace = ? WHERE namespace = ?", (dst, src))
            for name in (*m.new_classes, *m.new_sqlite_classes):
                private_dir(namespace_dir(persist_dir, unique_key(worker, name)))
            metadata.record_tag(worker, m.tag, position)
            done.append(m.tag)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done
