"""``wranglerpy d1``: wrangler's ``d1 execute`` and ``d1 migrations create|list|apply``, on the
local state (whether or not ``wranglerpy dev`` is running)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from wranglerpy.cli._options import ConfigOption, EnvOption, LocalFlag, PersistOption, RemoteFlag
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import LocalTarget, resolve_target, run_on
from wranglerpy.config.schema import D1Database
from wranglerpy.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from wranglerpy.bindings.d1 import D1DatabaseBinding

T = TypeVar("T")

app = typer.Typer(help="Local D1 databases: run SQL, manage migrations.", no_args_is_help=True)
migrations_app = typer.Typer(help="Create, list and apply migrations.", no_args_is_help=True)
app.add_typer(migrations_app, name="migrations")

DatabaseArgument = Annotated[str, typer.Argument(help="The database's binding or database_name.")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Accepted for wrangler compatibility.")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True, markup=False)


def find_database(target: LocalTarget, name: str) -> D1Database:
    """The ``[[d1_databases]]`` entry whose binding or database_name is ``name``."""
    assert target.config is not None
    for database in target.config.d1_databases:
        if name in (database.binding, database.database_name):
            return database
    known = ", ".join(d.database_name or d.binding for d in target.config.d1_databases) or "none"
    raise ConfigError(
        f"Couldn't find a D1 DB with the name or binding '{name}' in "
        f"{target.config.config_path} (databases: {known})."
    )


def _open(
    name: str, config: Path | None, env: str | None, persist_to: Path | None, remote: bool
) -> tuple[LocalTarget, D1Database]:
    target = resolve_target(config, env, persist_to, remote, need_config=True)
    return target, find_database(target, name)


def _with_db(
    target: LocalTarget, database: D1Database, action: Callable[[D1DatabaseBinding], Awaitable[T]]
) -> T:
    from wranglerpy.bindings import d1

    return run_on(lambda: d1.create(database, target.persist_dir), action)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return list(value)  # as D1's JSON shows a blob: an array of byte values
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(show_lines=False)
    columns = list(rows[0]) if rows else []
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("null" if row[c] is None else str(_jsonable(row[c])) for c in columns))
    return table


@app.command("execute")
@handle_errors
def execute(
    database: DatabaseArgument,
    command: str = typer.Option(None, "--command", help="SQL to run (one or more statements)."),
    file: Path = typer.Option(None, "--file", help="A .sql file to run."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    yes: YesFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Run SQL against the local database, all statements in one transaction."""
    from wranglerpy.bindings.d1.admin import execute_script

    if (command is None) == (file is None):
        raise UsageError("Pass exactly one of --command or --file.")
    if file is not None:
        try:
            sql = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"Cannot read --file {file}: {exc}") from None
    else:
        sql = command
    target, db_config = _open(database, config, env, persist_to, remote)
    results = _with_db(target, db_config, lambda db: execute_script(db, sql))
    if as_json:
        typer.echo(json.dumps(_jsonable(results), indent=2, ensure_ascii=False))
        return
    console = _console()
    label = db_config.database_name or db_config.binding
    console.print(f"Executing on local database {label} ({db_config.storage_id}):")
    for result in results:
        if result["results"]:
            console.print(_table(result["results"]))
    console.print(f"{len(results)} command(s) executed successfully.")


@migrations_app.command("create")
@handle_errors
def migrations_create(
    database: DatabaseArgument,
    message: str = typer.Argument(..., help="A short name for the migration."),
    config: ConfigOption = None,
    env: EnvOption = None,
) -> None:
    """Create the next NNNN_message.sql in the database's migrations_dir."""
    from wranglerpy.bindings.d1.admin import create_migration

    target, db_config = _open(database, config, env, None, False)
    assert target.config is not None
    path = create_migration(target.config.root / db_config.migrations_dir, message)
    typer.echo(f"Successfully created Migration '{path.name}'!")
    typer.echo(f"The migration is available for editing here: {path}")


@migrations_app.command("list")
@handle_errors
def migrations_list(
    database: DatabaseArgument,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """List the migrations not yet applied to the local database."""
    from wranglerpy.bindings.d1.admin import unapplied

    target, db_config = _open(database, config, env, persist_to, remote)
    assert target.config is not None
    folder = target.config.root / db_config.migrations_dir
    todo = _with_db(target, db_config, lambda db: unapplied(db, folder, db_config.migrations_table))
    console = _console()
    if not todo:
        console.print("No migrations to apply!")
        return
    console.print(_table([{"Name": m.name} for m in todo]))


@migrations_app.command("apply")
@handle_errors
def migrations_apply(
    database: DatabaseArgument,
    yes: YesFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Apply unapplied migrations in order, each in a transaction; stop at a failure."""
    from wranglerpy.bindings.d1.admin import Migration, apply_migrations, migration_files

    target, db_config = _open(database, config, env, persist_to, remote)
    assert target.config is not None
    folder = target.config.root / db_config.migrations_dir
    if not folder.is_dir():
        raise ConfigError(f"No migrations folder found: {folder}")
    console = _console()
    if not migration_files(folder):
        console.print("No migrations to apply!")
        return

    def report(migration: Migration) -> None:
        console.print(f"Applied {migration.name}")

    applied = _with_db(
        target,
        db_config,
        lambda db: apply_migrations(db, folder, db_config.migrations_table, report),
    )
    if applied:
        console.print(f"{len(applied)} migration(s) applied.")
    else:
        console.print("No migrations to apply!")


# create|list|info|export|delete live in their own module; they join this group here.
from wranglerpy.cli import d1_databases  # noqa: E402

d1_databases.register(app)
