"""``wranglerpy vectorize``: wrangler's Vectorize commands on local indexes (argument names as
in cloudflare/workers-sdk ``packages/wrangler/src/vectorize/``): create, list, get, delete,
info, insert, upsert, query, get-vectors, delete-vectors, list-vectors, and the metadata index
commands. They work whether or not ``wranglerpy dev`` is running (SQLite in WAL mode).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from wranglerpy.cli._options import ConfigOption, EnvOption, JsonFlag, PersistOption
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import resolve_target
from wranglerpy.errors import UsageError

app = typer.Typer(help="Local Vectorize indexes.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="The name of the Vectorize index.")]
# wrangler's "--vector 1 2 3" and "--ids a b c": the values after the first arrive as extra args.
MANY = {"allow_extra_args": True, "ignore_unknown_options": True}


def _persist(config: Path | None, env: str | None, persist_to: Path | None) -> Path:
    return resolve_target(config, env, persist_to, False, need_config=False).persist_dir


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table()
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console(highlight=False).print(table)


def _index_row(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": details["name"],
        "dimensions": details["config"]["dimensions"],
        "metric": details["config"]["metric"],
        "description": details["description"],
        "created": details["created_on"],
        "modified": details["modified_on"],
    }


@app.command("create")
@handle_errors
def create(
    name: NameArgument,
    dimensions: int = typer.Option(None, "--dimensions", help="Dimensions of each vector."),
    metric: str = typer.Option(None, "--metric", help="euclidean, cosine or dot-product."),
    preset: str = typer.Option(None, "--preset", help="An embeddings model to configure for."),
    description: str = typer.Option("", "--description", help="A description of the index."),
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Create a Vectorize index."""
    from wranglerpy.bindings.vectorize.catalog import create_index

    if preset is not None and not as_json:
        typer.echo(f"Configuring index based for the embedding model {preset}.")
    created = create_index(
        _persist(config, env, persist_to),
        name,
        dimensions=dimensions,
        metric=metric,
        preset=preset,
        description=description,
    )
    if as_json:
        _print_json(created.details())
        return
    typer.echo(f"✅ Successfully created a new Vectorize index: '{created.name}'")
    typer.echo("To access it from a Worker, add to your wrangler.toml:\n")
    typer.echo(f'[[vectorize]]\nbinding = "VECTORIZE"\nindex_name = "{created.name}"')


@app.command("list")
@handle_errors
def list_(
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """List the local Vectorize indexes."""
    from wranglerpy.bindings.vectorize.catalog import list_indexes

    indexes = [c.details() for c in list_indexes(_persist(config, env, persist_to))]
    if as_json:
        _print_json(indexes)
    elif not indexes:
        typer.echo("No Vectorize indexes yet; create one with `wranglerpy vectorize create`.")
    else:
        _table([_index_row(d) for d in indexes])


@app.command("get")
@handle_errors
def get(
    name: NameArgument,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Get a Vectorize index by name."""
    from wranglerpy.bindings.vectorize.catalog import get_index

    details = get_index(_persist(config, env, persist_to), name).details()
    if as_json:
        _print_json(details)
    else:
        _table([_index_row(details)])


@app.command("delete")
@handle_errors
def delete(
    name: NameArgument,
    force: bool = typer.Option(False, "--force", "-y", help="Skip confirmation."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Delete a Vectorize index and its vectors."""
    from wranglerpy.bindings.vectorize.catalog import delete_index, get_index

    persist = _persist(config, env, persist_to)
    get_index(persist, name)
    typer.echo(f"Deleting Vectorize index {name}")
    if not force and not typer.confirm(f"OK to delete the index '{name}'?"):
        typer.echo("Deletion cancelled.")
        return
    delete_index(persist, name)
    typer.echo(f"✅ Deleted index {name}")


@app.command("info")
@handle_errors
def info(
    name: NameArgument,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Get additional details about the index."""
    from wranglerpy.bindings.vectorize.admin import open_store

    store = open_store(_persist(config, env, persist_to), name)
    try:
        details = store.info()
    finally:
        store.close()
    if as_json:
        _print_json(details)
    else:
        _table([details])


def _upload(
    name: str,
    file: Path,
    batch_size: int,
    as_json: bool,
    persist: Path,
    replace: bool,
) -> None:
    from wranglerpy.bindings.vectorize.admin import upload

    done = upload(persist, name, file, replace=replace, batch_size=batch_size)
    if as_json:
        _print_json({"index": name, "count": done.count})
        return
    verb = "upserted" if replace else "inserted"
    typer.echo(f"✅ Successfully {verb} {done.count} vectors into index '{name}'.")


@app.command("insert")
@handle_errors
def insert(
    name: NameArgument,
    file: Path = typer.Option(..., "--file", help="NDJSON: one vector object per line."),
    batch_size: int = typer.Option(1000, "--batch-size", help="Vectors per batch (max 5000)."),
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Insert vectors from an NDJSON file; existing ids are kept."""
    _upload(name, file, batch_size, as_json, _persist(config, env, persist_to), replace=False)


@app.command("upsert")
@handle_errors
def upsert(
    name: NameArgument,
    file: Path = typer.Option(..., "--file", help="NDJSON: one vector object per line."),
    batch_size: int = typer.Option(1000, "--batch-size", help="Vectors per batch (max 5000)."),
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Upsert vectors from an NDJSON file; existing ids are replaced."""
    _upload(name, file, batch_size, as_json, _persist(config, env, persist_to), replace=True)


def _numbers(first: str | None, rest: list[str]) -> list[float] | None:
    if first is None:
        return None
    values = []
    for text in [first, *rest]:
        try:
            values.append(float(text))
        except ValueError:
            raise UsageError(f"--vector takes numbers, got {text!r}") from None
    return values


@app.command("query", context_settings=MANY)
@handle_errors
def query(
    ctx: typer.Context,
    name: NameArgument,
    vector: str = typer.Option(None, "--vector", help="The query vector: --vector 1 2 3 ..."),
    vector_id: str = typer.Option(None, "--vector-id", help="Query with a stored vector."),
    top_k: int = typer.Option(5, "--top-k", help="How many nearest neighbours to return."),
    return_values: bool = typer.Option(False, "--return-values", help="Include values."),
    return_metadata: str = typer.Option("none", "--return-metadata", help="all|indexed|none."),
    namespace: str = typer.Option(None, "--namespace", help="Only this namespace."),
    filter_: str = typer.Option(None, "--filter", help="A metadata filter as JSON."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Query a Vectorize index by vector or by vector id."""
    from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
    from wranglerpy.bindings.vectorize.catalog import get_index, index_path

    values = _numbers(vector, list(ctx.args))
    if (values is None) == (vector_id is None):
        raise UsageError("🚨 Either vector or vector-id parameter must be provided, but not both.")
    options: dict[str, Any] = {
        "topK": top_k,
        "returnValues": return_values,
        "returnMetadata": return_metadata,
    }
    if namespace:
        options["namespace"] = namespace
    if filter_:
        try:
            options["filter"] = json.loads(filter_)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--filter is not valid JSON: {exc.msg}") from None
    persist = _persist(config, env, persist_to)
    get_index(persist, name)
    binding = VectorizeIndexBinding(index_path(persist, name), name)
    try:
        if values is not None:
            result = asyncio.run(binding.query(values, options))
        else:
            result = asyncio.run(binding.queryById(vector_id, options))
    finally:
        binding.close()
    if result["count"] == 0:
        typer.echo("Could not find any relevant vectors", err=True)
        return
    _print_json(result)


@app.command("get-vectors", context_settings=MANY)
@handle_errors
def get_vectors(
    ctx: typer.Context,
    name: NameArgument,
    ids: str = typer.Option(..., "--ids", help="Vector ids: --ids a b c"),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Get vectors by id."""
    from wranglerpy.bindings.vectorize.admin import open_store

    store = open_store(_persist(config, env, persist_to), name)
    try:
        found = store.get([ids, *ctx.args])
    finally:
        store.close()
    if not found:
        typer.echo(
            "The index does not contain vectors corresponding to the provided identifiers",
            err=True,
        )
        return
    _print_json(found)


@app.command("delete-vectors", context_settings=MANY)
@handle_errors
def delete_vectors(
    ctx: typer.Context,
    name: NameArgument,
    ids: str = typer.Option(..., "--ids", help="Vector ids: --ids a b c"),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Delete vectors by id."""
    from wranglerpy.bindings.vectorize.admin import open_store

    wanted = [ids, *ctx.args]
    store = open_store(_persist(config, env, persist_to), name)
    try:
        mutation = store.delete(wanted)
    finally:
        store.close()
    typer.echo(
        f"✅ Deleted {len(wanted)} vector ids from index '{name}'. Mutation changeset "
        f"identifier: {mutation}."
    )


@app.command("list-vectors")
@handle_errors
def list_vectors(
    name: NameArgument,
    count: int = typer.Option(None, "--count", help="Vectors per page (1-1000)."),
    cursor: str = typer.Option(None, "--cursor", help="Continue from this cursor."),
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """List vector ids, a page at a time."""
    from wranglerpy.bindings.vectorize.admin import list_vectors as list_ids

    page = list_ids(_persist(config, env, persist_to), name, count, cursor)
    if as_json:
        _print_json(page)
        return
    vectors: list[dict[str, str]] = page["vectors"]  # type: ignore[assignment]
    if not vectors:
        typer.echo("No vectors found in this index.", err=True)
        return
    _table([{"#": str(i + 1), "Vector ID": v["id"]} for i, v in enumerate(vectors)])
    typer.echo(f"\nShowing {page['count']} of {page['totalCount']} total vectors")
    if page.get("nextCursor"):
        typer.echo(f"To get the next page: --cursor {page['nextCursor']}")


PropertyOption = Annotated[
    str,
    typer.Option("--property-name", "--propertyName", help="The metadata property."),
]


@app.command("create-metadata-index")
@handle_errors
def create_metadata_index(
    name: NameArgument,
    property_name: PropertyOption,
    type_: str = typer.Option(..., "--type", help="string, number or boolean."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Enable metadata filtering on a property (vectors written from now on are indexed)."""
    from wranglerpy.bindings.vectorize.admin import create_metadata_index as create_mi

    mutation = create_mi(_persist(config, env, persist_to), name, property_name, type_)
    typer.echo(
        f"✅ Successfully created metadata index. Mutation changeset identifier: {mutation}."
    )


@app.command("list-metadata-index")
@handle_errors
def list_metadata_index(
    name: NameArgument,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """List the properties with metadata filtering enabled."""
    from wranglerpy.bindings.vectorize.admin import list_metadata_indexes

    found = list_metadata_indexes(_persist(config, env, persist_to), name)
    if as_json:
        _print_json(found)
    elif not found:
        typer.echo(
            "This index has no metadata indexes; create one with "
            "`wranglerpy vectorize create-metadata-index`.",
            err=True,
        )
    else:
        _table([{"propertyName": m["propertyName"], "type": m["indexType"]} for m in found])


@app.command("delete-metadata-index")
@handle_errors
def delete_metadata_index(
    name: NameArgument,
    property_name: PropertyOption,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Delete a metadata index (its values are dropped from every vector)."""
    from wranglerpy.bindings.vectorize.admin import delete_metadata_index as delete_mi

    mutation = delete_mi(_persist(config, env, persist_to), name, property_name)
    typer.echo(
        f"✅ Successfully deleted metadata index. Mutation changeset identifier: {mutation}."
    )
