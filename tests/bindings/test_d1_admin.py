import datetime as dt
from pathlib import Path

import pytest

from wranglerpy.bindings.d1 import D1DatabaseBinding, D1Error
from wranglerpy.bindings.d1.admin import (
    MigrationError,
    apply_migrations,
    create_migration,
    execute_script,
    unapplied,
)
from wranglerpy.errors import UsageError

STAMP = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)


def test_create_migration_numbers_after_the_highest(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    first = create_migration(folder, "create users", now=lambda: STAMP)
    assert first.name == "0001_create_users.sql"
    assert first.read_text() == "-- Migration number: 0001 \t 2026-01-02T03:04:05.678Z\n"
    (folder / "0007_manual.sql").write_text("")
    (folder / "notes.sql").write_text("")
    assert create_migration(folder, "next", now=lambda: STAMP).name == "0008_next.sql"
    with pytest.raises(UsageError, match="Invalid migration message"):
        create_migration(folder, "a/b")
    with pytest.raises(UsageError, match="Invalid migration message"):
        create_migration(folder, "   ")


async def test_execute_script_returns_one_result_per_statement(tmp_path: Path) -> None:
    db = D1DatabaseBinding(tmp_path / "db.sqlite")
    results = await execute_script(
        db, "CREATE TABLE t (x); INSERT INTO t VALUES (1); SELECT x FROM t;"
    )
    assert [r.results for r in results] == [[], [], [{"x": 1}]]
    with pytest.raises(UsageError, match="no SQL"):
        await execute_script(db, "/* nothing */")
    db.close()


async def test_apply_records_and_stops_at_a_failure(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x);")
    (folder / "0002_b.sql").write_text("CREATE TABLE a (x);")
    db = D1DatabaseBinding(tmp_path / "db.sqlite")
    seen: list[str] = []
    with pytest.raises(MigrationError) as info:
        await apply_migrations(db, folder, "d1_migrations", lambda m: seen.append(m.name))
    assert seen == ["0001_a.sql"]
    assert str(info.value) == (
        "Migration 0002_b.sql failed and was rolled back: "
        "D1_ERROR: table a already exists: SQLITE_ERROR"
    )
    assert [m.name for m in await unapplied(db, folder, "d1_migrations")] == ["0002_b.sql"]
    db.close()


async def test_transaction_control_in_a_script_is_refused_with_the_fix(tmp_path: Path) -> None:
    db = D1DatabaseBinding(tmp_path / "db.sqlite")
    dump = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t (x);\nCOMMIT;\n"
    with pytest.raises(D1Error, match="SQL line 2: BEGIN is not allowed; remove BEGIN TRANSACTION"):
        await execute_script(db, dump)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_dump.sql").write_text(dump)
    with pytest.raises(MigrationError, match="0001_dump.sql failed .*0001_dump.sql line 2: BEGIN"):
        await apply_migrations(db, folder, "d1_migrations")
    db.close()
