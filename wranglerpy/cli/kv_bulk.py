"""``wranglerpy kv bulk put|delete FILE``: many keys at once, from wrangler's JSON files.

``put`` reads an array of ``{"key", "value", "expiration"?, "expiration_ttl"?, "metadata"?,
"base64"?}`` objects; ``delete`` an array of key names (or objects with a ``name``, as
``kv key list`` prints them). The whole file is checked before the first write, so a mistake
in entry 900 leaves the namespace as it was.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wranglerpy.cli._options import ConfigOption, EnvOption, LocalFlag, PersistOption, RemoteFlag
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.kv import (
    BindingOption,
    NamespaceOption,
    PreviewFlag,
    local_target,
    namespace_id,
    with_namespace,
)
from wranglerpy.errors import UsageError

if TYPE_CHECKING:
    from wranglerpy.bindings.kv import KVNamespaceBinding

bulk_app: typer.Typer = typer.Typer(
    help="Put or delete many keys from a JSON file.", no_args_is_help=True
)
FileArgument = Annotated[Path, typer.Argument(help="The JSON file.")]


def _read_array(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a JSON array, got {type(data).__name__}.")
    return data


def _put_entry(path: Path, index: int, entry: Any) -> tuple[str, str | bytes, dict[str, Any]]:
    where = f"{path} [{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
        raise UsageError(f'{where}: expected an object with a string "key".')
    value = entry.get("value")
    if not isinstance(value, str):
        raise UsageError(f'{where}: "value" must be a string.')
    data: str | bytes = value
    if entry.get("base64"):
        try:
            data = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise UsageError(f'{where}: "value" is not valid base64.') from None
    options: dict[str, Any] = {}
    for field, option in (("expiration", "expiration"), ("expiration_ttl", "expirationTtl")):
        if field in entry:
            if not isinstance(entry[field], int) or isinstance(entry[field], bool):
                raise UsageError(f'{where}: "{field}" must be an integer.')
            options[option] = entry[field]
    if "metadata" in entry:
        options["metadata"] = entry["metadata"]
    return entry["key"], data, options


def _delete_entry(path: Path, index: int, entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        return entry["name"]
    raise UsageError(f'{path} [{index}]: expected a key name or an object with a "name".')


@bulk_app.command("put")
@handle_errors
def bulk_put(
    file: FileArgument,
    binding: BindingOption = None,
    namespace: NamespaceOption = None,
    preview: PreviewFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Write every key/value object of FILE."""
    entries = [_put_entry(file, i, e) for i, e in enumerate(_read_array(file))]
    target = local_target(config, env, persist_to, remote, binding)
    ident = namespace_id(target, binding, namespace, preview)

    async def put_all(ns: KVNamespaceBinding) -> None:
        for key, data, options in entries:
            await ns.put(key, data, options)

    with_namespace(ident, target, put_all)
    typer.echo(f"Success! Wrote {len(entries)} key(s) to namespace {ident}.")


@bulk_app.command("delete")
@handle_errors
def bulk_delete(
    file: FileArgument,
    binding: BindingOption = None,
    namespace: NamespaceOption = None,
    preview: PreviewFlag = False,
    force: Annotated[bool, typer.Option("--force", "-f", help="Do not ask.")] = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Delete every key named in FILE."""
    import sys

    keys = [_delete_entry(file, i, e) for i, e in enumerate(_read_array(file))]
    target = local_target(config, env, persist_to, remote, binding)
    ident = namespace_id(target, binding, namespace, preview)
    if not force and sys.stdin.isatty():
        typer.confirm(f"Delete {len(keys)} key(s) from namespace {ident}?", abort=True)

    async def delete_all(ns: KVNamespaceBinding) -> None:
        for key in keys:
            await ns.delete(key)

    with_namespace(ident, target, delete_all)
    typer.echo(f"Success! Deleted {len(keys)} key(s) from namespace {ident}.")
