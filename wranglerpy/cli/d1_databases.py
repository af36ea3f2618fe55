"""``wranglerpy d1 create|list|info|delete|export``: local databases as wrangler manages them.

A database bound in the config is found by its binding or ``database_name``; one made with
``d1 create`` (and not bound yet) by its name or id. Exports are SQL dumps in the shape
``wrangler d1 export`` writes: ``PRAGMA defer_foreign_keys=TRUE;``, then the schema and the
rows as ``INSERT`` statements, without D1's and SQLite's internal tables.
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from wranglerpy.cli import resources, tables
from wranglerpy.cli._options import ConfigOption, EnvOption, LocalFlag, PersistOption, RemoteFlag
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import LocalTarget, resolve_target
from wranglerpy.errors import UsageError

NameArgument = Annotated[str, typer.Argument(help="The database's name, binding or id.")]
# Tables D1 keeps for itself (and SQLite's own): never part of an export or a table count.
_INTERNAL_PREFIXES = ("_cf_", "sqlite_")


@dataclass(frozen=True)
class LocalDatabase:
    label: str
    ident: str
    path: Path


def _locate(target: LocalTarget, name: str) -> LocalDatabase:
    from wranglerpy.bindings.d1 import database_path

    if target.config is not None:
        for db in target.config.d1_databases:
            if name in (db.binding, db.database_name, db.database_id):
                label = db.database_name or db.binding
                return LocalDatabase(
                    label, db.storage_id, database_path(target.persist_dir, db.storage_id)
                )
    found = resources.find(target.persist_dir, "d1", name)
    if found is None:
        raise UsageError(
            f"Couldn't find a D1 database named '{name}' in the config or in {target.persist_dir}."
        )
    return LocalDatabase(found.name, found.ident, database_path(target.persist_dir, found.ident))


def _read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise UsageError(f"The database has no local data yet ({path} does not exist).")
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)


def _user_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    return [r[0] for r in rows if not r[0].startswith(_INTERNAL_PREFIXES)]


def create(
    name: Annotated[str, typer.Argument(help="The new database's name.")],
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Create a local database with a new id and print the config lines that bind it."""
    target = resolve_target(config, env, persist_to, remote, need_config=False)
    if resources.find(target.persist_dir, "d1", name) is not None:
        raise UsageError(f'A local D1 database named "{name}" exists already.')
    ident = str(uuid.uuid4())
    resources.create(target.persist_dir, "d1", ident, name)
    typer.echo(f'✅ Created the local D1 database "{name}" ({ident}).')
    source = target.config.config_path if target.config else None
    fields = {"binding": "DB", "database_name": name, "database_id": ident}
    typer.echo(resources.binding_advice("d1_databases", fields, source))


def list_databases(
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """The local databases: the config's, then any others with state in the persist dir."""
    target = resolve_target(config, env, persist_to, remote, need_config=False)
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for db in target.config.d1_databases if target.config else ():
        seen.add(db.storage_id)
        rows.append((db.storage_id, db.database_name or db.binding, "-"))
    for found in resources.listing(target.persist_dir, "d1"):
        if found.ident not in seen:
            rows.append((found.ident, found.name, found.created_on or "-"))
    tables.print_table(("uuid", "name", "created_at"), rows)


def info(
    name: NameArgument,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """A local database's id, table count and size."""
    target = resolve_target(config, env, persist_to, remote, need_config=False)
    db = _locate(target, name)
    conn = _read_only(db.path)
    try:
        count = len(_user_tables(conn))
    finally:
        conn.close()
    size = sum(p.stat().st_size for p in db.path.parent.glob(db.path.name + "*"))
    tables.print_table(
        ("name", "uuid", "num_tables", "database_size"), [(db.label, db.ident, count, size)]
    )


def _dump(conn: sqlite3.Connection, only: set[str], schema: bool, data: bool) -> Iterator[str]:
    yield "PRAGMA defer_foreign_keys=TRUE;"
    chosen = [t for t in _user_tables(conn) if not only or t in only]
    for table in chosen:
        if schema:
            (sql,) = conn.execute(
                "SELECT sql FROM sqlite_schema WHERE name = ?", (table,)
            ).fetchone()
            yield f"{sql};"
        if data:
            quoted = '"' + table.replace('"', '""') + '"'
            for row in conn.execute(f"SELECT * FROM {quoted}"):
                values = ",".join(_literal(v) for v in row)
                yield f"INSERT INTO {quoted} VALUES({values});"
    if schema:
        for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger', 'view') "
            "AND sql IS NOT NULL AND tbl_name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name"
        ):
            yield f"{sql};"


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def export(
    name: NameArgument,
    output: Annotated[Path, typer.Option("--output", help="The .sql file to write.")],
    table: Annotated[
        list[str] | None, typer.Option("--table", help="Only this table (repeatable).")
    ] = None,
    no_schema: Annotated[bool, typer.Option("--no-schema", help="Rows only.")] = False,
    no_data: Annotated[bool, typer.Option("--no-data", help="Schema only.")] = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Write a local database as SQL (schema and rows) to --output."""
    if no_schema and no_data:
        raise UsageError("--no-schema and --no-data together would export nothing.")
    target = resolve_target(config, env, persist_to, remote, need_config=False)
    db = _locate(target, name)
    conn = _read_only(db.path)
    try:
        missing = set(table or ()) - set(_user_tables(conn))
        if missing:
            raise UsageError(f"No table {', '.join(sorted(missing))} in {db.label}.")
        lines = list(_dump(conn, set(table or ()), not no_schema, not no_data))
    finally:
        conn.close()
    try:
        output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot write --output {output}: {exc.strerror or exc}") from None
    typer.echo(f"🌀 Exported {db.label} to {output}.")


def delete(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Delete a local database and all its data."""
    target = resolve_target(config, env, persist_to, remote, need_config=False)
    db = _locate(target, name)
    folder = db.path.parent
    if not folder.exists():
        raise UsageError(f'The database "{db.label}" has no local data to delete.')
    if not yes and sys.stdin.isatty():
        typer.confirm(f'Delete the local database "{db.label}" and all its data?', abort=True)
    found = resources.find(target.persist_dir, "d1", db.ident)
    if found is not None:
        resources.delete(found)
    typer.echo(f'Deleted the local D1 database "{db.label}".')


def register(app: typer.Typer) -> None:
    """Add these commands to the ``d1`` group."""
    app.command("create")(handle_errors(create))
    app.command("list")(handle_errors(list_databases))
    app.command("info")(handle_errors(info))
    app.command("export")(handle_errors(export))
    app.command("delete")(handle_errors(delete))
