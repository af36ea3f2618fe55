"""What ``wranglerpy d1`` does to a database: run a script, and create/list/apply migrations.

Migrations follow wrangler: ``NNNN_message.sql`` files in the database's ``migrations_dir``,
applied in name order, each recorded in ``migrations_table`` (``d1_migrations``: id, name,
applied_at). Each file runs in one transaction together with its record, so a failing file
leaves neither its changes nor a record behind, and the run stops there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.bindings.d1.binding import D1DatabaseBinding, D1PreparedStatement
from wranglerpy.bindings.d1.sql import TRANSACTION_WORDS, D1Error, first_word, split_sql
from wranglerpy.errors import UsageError
from wranglerpy.jsobject import JSObject

_NUMBERED = re.compile(r"^(\d+)_.*\.sql$")


class MigrationError(D1Error):
    """A migration file failed; the message names the file and SQLite's error."""


@dataclass(frozen=True)
class Migration:
    name: str
    path: Path


def _statements(db: D1DatabaseBinding, sql: str, where: str) -> list[D1PreparedStatement]:
    """The statements of ``sql``, refusing transaction control (the caller opens the one
    transaction), as D1 does, with the fix in the message."""
    out = []
    for line, text in split_sql(sql):
        word = first_word(text)
        if word in TRANSACTION_WORDS:
            raise D1Error(
                f"D1_ERROR: {where} line {line}: {word} is not allowed; remove BEGIN TRANSACTION / "
                "COMMIT / SAVEPOINT statements: the whole SQL already runs in one transaction."
            )
        out.append(db.prepare(text))
    return out


async def execute_script(db: D1DatabaseBinding, sql: str) -> list[JSObject]:
    """Run every statement of ``sql`` atomically (one batch): one result per statement."""
    statements = _statements(db, sql, "SQL")
    if not statements:
        raise UsageError("There is no SQL to execute (only whitespace or comments).")
    return await db.batch(statements)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def migration_files(folder: Path) -> list[Migration]:
    """The ``*.sql`` files of ``folder``, in name order."""
    if not folder.is_dir():
        return []
    return [Migration(p.name, p) for p in sorted(folder.glob("*.sql")) if p.is_file()]


def create_migration(
    folder: Path, message: str, now: Callable[[], dt.datetime] | None = None
) -> Path:
    """Write the next ``NNNN_message.sql`` in ``folder`` (created if missing)."""
    slug = re.sub(r"\s+", "_", message.strip())
    if not slug or "/" in slug or "\\" in slug:
        raise UsageError(f"Invalid migration message {message!r}: give a short name, no slashes.")
    folder.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in folder.glob("*.sql") if (m := _NUMBERED.match(p.name))]
    number = f"{max(numbers, default=0) + 1:04d}"
    stamp = (now or (lambda: dt.datetime.now(dt.timezone.utc)))()
    path = folder / f"{number}_{slug}.sql"
    iso = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    path.write_text(f"-- Migration number: {number} \t {iso}\n", encoding="utf-8")
    return path


async def _ensure_table(db: D1DatabaseBinding, table: str) -> None:
    await db.prepare(
        f"CREATE TABLE IF NOT EXISTS {_quote(table)} ("
        "id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, "
        "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)"
    ).run()


async def applied_names(db: D1DatabaseBinding, table: str) -> set[str]:
    await _ensure_table(db, table)
    rows = await db.prepare(f"SELECT name FROM {_quote(table)}").raw()
    return {str(row[0]) for row in rows}


async def unapplied(db: D1DatabaseBinding, folder: Path, table: str) -> list[Migration]:
    done = await applied_names(db, table)
    return [m for m in migration_files(folder) if m.name not in done]


async def apply_migrations(
    db: D1DatabaseBinding,
    folder: Path,
    table: str,
    on_applied: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply every unapplied migration in order; stop at the first that fails."""
    applied: list[Migration] = []
    record = db.prepare(f"INSERT INTO {_quote(table)} (name) VALUES (?)")
    for migration in await unapplied(db, folder, table):
        try:
            sql = migration.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MigrationError(f"Migration {migration.name} cannot be read: {exc}") from None
        try:
            statements = _statements(db, sql, migration.name)
            await db.batch([*statements, record.bind(migration.name)])
        except D1Error as exc:
            raise MigrationError(
                f"Migration {migration.name} failed and was rolled back: {exc}"
            ) from None
        applied.append(migration)
        if on_applied is not None:
            on_applied(migration)
    return applied
