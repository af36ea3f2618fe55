"""``wranglerpy durable-objects list|get|delete``: see and reset local Durable Object state."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from wranglerpy.cli._options import ConfigOption, EnvOption, PersistOption
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import LocalTarget, resolve_target
from wranglerpy.errors import UsageError

app = typer.Typer(help="Local Durable Objects: classes, objects, keys.", no_args_is_help=True)

ClassArgument = Annotated[str, typer.Argument(help="The class name (or its binding name).")]
ObjectArgument = Annotated[
    str, typer.Argument(help="The object's 64-hex id, or the name given to idFromName.")
]


def _target(config: Any, env: Any, persist_to: Any) -> LocalTarget:
    return resolve_target(config, env, persist_to, False, need_config=True)


def _class(target: LocalTarget, name: str) -> str:
    assert target.config is not None
    for binding in target.config.durable_objects:
        if name in (binding.name, binding.class_name) and binding.script_name is None:
            return binding.class_name
    from wranglerpy.config.durable_objects import class_storage

    if name in class_storage(target.config.migrations):
        return name
    raise UsageError(f'No Durable Object class or binding named "{name}" in {target.config.name}.')


def _human(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


@app.command("list")
@handle_errors
def list_command(
    class_name: Annotated[str | None, typer.Argument(help="List this class's objects.")] = None,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Classes (with object counts and sizes), or one class's objects."""
    from wranglerpy.bindings.durable_objects import admin

    target = _target(config, env, persist_to)
    assert target.config is not None
    if class_name is None:
        rows = admin.namespaces(target.persist_dir)
        if not rows:
            typer.echo(f"No Durable Object state in {target.persist_dir}.")
        for namespace, count, size in rows:
            typer.echo(f"{namespace:<40} {count:>6} objects {_human(size):>10}")
        return
    name = _class(target, class_name)
    found = admin.objects(target.persist_dir, target.config.name, name)
    if not found:
        typer.echo(f"No stored objects of {name}.")
    for info in found:
        label = f'"{info.name}"' if info.name is not None else "(unique id)"
        typer.echo(f"{info.object_id}  {label:<24} {info.keys:>6} keys {_human(info.size):>10}")


@app.command("get")
@handle_errors
def get_command(
    class_name: ClassArgument,
    object_id: ObjectArgument,
    key: Annotated[str, typer.Argument(help="The storage key.")],
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Print one key of an object's storage (as JSON when it can be)."""
    from wranglerpy.bindings.durable_objects import admin

    target = _target(config, env, persist_to)
    assert target.config is not None
    value = admin.read_key(
        target.persist_dir, target.config.name, _class(target, class_name), object_id, key
    )
    if isinstance(value, bytes):
        typer.echo(value, nl=False)
        return
    try:
        typer.echo(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        typer.echo(repr(value))


@app.command("delete")
@handle_errors
def delete_command(
    class_name: ClassArgument,
    object_id: ObjectArgument,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Delete one object's storage and alarm (stop `dev` first: a live object keeps its copy)."""
    from wranglerpy.bindings.durable_objects import admin

    target = _target(config, env, persist_to)
    assert target.config is not None
    name = _class(target, class_name)
    deleted = admin.delete_object(target.persist_dir, target.config.name, name, object_id)
    typer.echo(f"Deleted the storage of Durable Object {name} {deleted}.")
