"""``wranglerpy analytics query "SQL"``: the Analytics Engine SQL API's subset, answered from
the local datasets that ``writeDataPoint`` fills."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from wranglerpy.cli import tables
from wranglerpy.cli._options import ConfigOption, EnvOption, LocalFlag, PersistOption, RemoteFlag
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import LocalTarget, resolve_target
from wranglerpy.errors import UsageError

app = typer.Typer(
    help="Local Workers Analytics Engine: query stored data points.", no_args_is_help=True
)


def known_datasets(persist_dir: Path) -> list[str]:
    from wranglerpy.bindings.analytics_engine import DB_FILE

    folder = persist_dir / "analytics_engine"
    if not folder.is_dir():
        return []
    return sorted(unquote(p.name) for p in folder.iterdir() if (p / DB_FILE).is_file())


def binding_datasets(target: LocalTarget, env: str | None, folder: Path) -> dict[str, str]:
    """Binding name -> dataset, from the config in use, then every other config in ``folder``
    (a project with several workers names its datasets in several files)."""
    from wranglerpy.config.load import discover_configs, load_worker
    from wranglerpy.config.schema import WorkerConfig
    from wranglerpy.errors import ConfigError

    workers: list[WorkerConfig] = [target.config] if target.config is not None else []
    seen = {w.config_path.resolve() for w in workers}
    try:
        others = [p for p in discover_configs(folder) if p.resolve() not in seen]
    except ConfigError:
        others = []
    for path in others:
        try:
            workers.append(load_worker(path, env))
        except ConfigError:
            continue  # a broken neighbour must not stop a query that may not need it
    mapping: dict[str, str] = {}
    for worker in workers:
        for ds in worker.analytics_engine_datasets:
            mapping.setdefault(ds.binding, ds.dataset)
    return mapping


def locator(
    target: LocalTarget, dataset: str | None, env: str | None, folder: Path
) -> Callable[[str], tuple[Path, str]]:
    from wranglerpy.bindings.analytics_engine import dataset_path

    def locate(table: str) -> tuple[Path, str]:
        name = dataset or table
        path = dataset_path(target.persist_dir, name)
        if not path.is_file():  # FROM may name a binding instead of its dataset
            mapped = binding_datasets(target, env, folder).get(name)
            if mapped is not None:
                name, path = mapped, dataset_path(target.persist_dir, mapped)
        if not path.is_file():
            have = ", ".join(known_datasets(target.persist_dir)) or "none yet"
            raise UsageError(
                f'No local Analytics Engine dataset "{name}" in {target.persist_dir} '
                f"(datasets with data: {have}). Data appears once a worker calls writeDataPoint."
            )
        return path, name

    return locate


def _cell(value: object) -> Text:
    # Text, not str: cells are printed literally, never read as rich markup.
    return Text("" if value is None else str(value))


@app.command("query")
@handle_errors
def query(
    sql: str = typer.Argument(
        ..., help='The query, e.g. "SELECT blob1, count() FROM ds GROUP BY blob1".'
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the SQL API's JSON answer."),
    dataset: str = typer.Option(None, "--dataset", help="Read this dataset whatever FROM names."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Run an Analytics Engine SQL query against the local data points."""
    from wranglerpy.bindings.analytics_engine.sql import run_query

    target = resolve_target(config, env, persist_to, remote, need_config=False)
    result = run_query(sql, locator(target, dataset, env, Path.cwd()))
    fmt = (result.format or "").upper()
    if fmt == "JSONEACHROW":
        for row in result.data:
            typer.echo(json.dumps(result.json_row(row), ensure_ascii=False))
        return
    if as_json or fmt == "JSON" or not tables.is_terminal():  # piped: JSON, never a cut table
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    table = Table(show_edge=True, highlight=False)
    for column in result.meta:
        table.add_column(
            Text(column["name"]),
            justify="left" if column["type"] in ("String", "DateTime") else "right",
        )
    for row in result.data:
        table.add_row(*(_cell(row[c["name"]]) for c in result.meta))
    console = Console(highlight=False, soft_wrap=False)
    console.print(table, markup=False)
    more = (
        f" (of {result.rows_before_limit} before LIMIT)"
        if result.rows_before_limit != result.rows
        else ""
    )
    typer.echo(f"{result.rows} row{'s' if result.rows != 1 else ''}{more}")
