"""``wranglerpy kv``: wrangler's ``kv key put|get|list|delete`` and ``kv namespace list``,
on the local state (whether or not ``wranglerpy dev`` is running)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from wranglerpy.cli._options import ConfigOption, EnvOption, LocalFlag, PersistOption, RemoteFlag
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import LocalTarget, resolve_target, run_on
from wranglerpy.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from wranglerpy.bindings.kv import KVNamespaceBinding

T = TypeVar("T")

app = typer.Typer(help="Local Workers KV: keys and namespaces.", no_args_is_help=True)
key_app = typer.Typer(help="Put, get, list and delete keys.", no_args_is_help=True)
namespace_app = typer.Typer(help="Create, list and delete namespaces.", no_args_is_help=True)
app.add_typer(key_app, name="key")
app.add_typer(namespace_app, name="namespace")

BindingOption = Annotated[
    str | None, typer.Option("--binding", help="The namespace's binding name.")
]
NamespaceOption = Annotated[str | None, typer.Option("--namespace-id", help="The namespace id.")]
PreviewFlag = Annotated[bool, typer.Option("--preview", help="Use the binding's preview_id.")]


def namespace_id(
    target: LocalTarget, binding: str | None, namespace: str | None, preview: bool
) -> str:
    """The namespace id named by ``--namespace-id`` or by ``--binding`` in the config."""
    if (binding is None) == (namespace is None):
        raise UsageError("Pass exactly one of --binding or --namespace-id.")
    if namespace is not None:
        return namespace
    if target.config is None:
        raise ConfigError(
            f"--binding {binding} needs a config file (none found); pass -c or --namespace-id."
        )
    for ns in target.config.kv_namespaces:
        if ns.binding == binding:
            if preview:
                if not ns.preview_id:
                    raise ConfigError(
                        f'The KV binding "{binding}" has no preview_id in {target.config.config_path}.'
                    )
                return ns.preview_id
            return ns.id
    known = ", ".join(ns.binding for ns in target.config.kv_namespaces) or "none"
    raise ConfigError(
        f'A namespace with binding name "{binding}" was not found in the configured '
        f'"kv_namespaces" of {target.config.config_path} (bindings: {known}).'
    )


def with_namespace(
    ident: str, target: LocalTarget, action: Callable[[KVNamespaceBinding], Awaitable[T]]
) -> T:
    from wranglerpy.bindings.kv import open_namespace

    # The local store, or the Redis server WRANGLERPY_KV_BACKEND names.
    return run_on(lambda: open_namespace(ident, target.persist_dir), action)


def local_target(
    config: Path | None, env: str | None, persist_to: Path | None, remote: bool, binding: str | None
) -> LocalTarget:
    return resolve_target(config, env, persist_to, remote, need_config=binding is not None)


@key_app.command("put")
@handle_errors
def key_put(
    key: str = typer.Argument(..., help="The key to write."),
    value: str = typer.Argument(None, help="The value (or use --path)."),
    path: Path = typer.Option(None, "--path", help="Read the value from this file."),
    ttl: int = typer.Option(None, "--ttl", help="Expire after this many seconds (>= 60)."),
    expiration: int = typer.Option(None, "--expiration", help="Expire at this epoch second."),
    metadata: str = typer.Option(None, "--metadata", help="JSON metadata for the key."),
    binding: BindingOption = None,
    namespace: NamespaceOption = None,
    preview: PreviewFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Write a single key/value pair."""
    if (value is None) == (path is None):
        raise UsageError("Pass exactly one of VALUE or --path.")
    data: str | bytes
    if path is not None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"Cannot read --path {path}: {exc.strerror or exc}") from None
    else:
        data = value
    options: dict[str, Any] = {}
    if ttl is not None:
        options["expirationTtl"] = ttl
    if expiration is not None:
        options["expiration"] = expiration
    if metadata is not None:
        try:
            options["metadata"] = json.loads(metadata)
        except ValueError as exc:
            raise UsageError(f"--metadata is not valid JSON: {exc}") from None
    target = local_target(config, env, persist_to, remote, binding)
    ident = namespace_id(target, binding, namespace, preview)
    with_namespace(ident, target, lambda ns: ns.put(key, data, options))
    what = f"the contents of {path}" if path is not None else f'the value "{value}"'
    typer.echo(f'Writing {what} to key "{key}" on namespace {ident}.')


@key_app.command("get")
@handle_errors
def key_get(
    key: str = typer.Argument(..., help="The key to read."),
    text: bool = typer.Option(False, "--text", help="Decode the value as UTF-8 text."),
    binding: BindingOption = None,
    namespace: NamespaceOption = None,
    preview: PreviewFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Print a key's value (raw bytes unless --text)."""
    target = local_target(config, env, persist_to, remote, binding)
    ident = namespace_id(target, binding, namespace, preview)
    data = with_namespace(ident, target, lambda ns: ns.get(key, "arrayBuffer"))
    if data is None:
        from wranglerpy.bindings.kv import KVError

        raise KVError(f'Value not found: key "{key}" is not in namespace {ident}.')
    if text:
        typer.echo(data.decode("utf-8", "replace"))
    else:
        typer.echo(data, nl=False)


@key_app.command("list")
@handle_errors
def key_list(
    prefix: str = typer.Option(None, "--prefix", help="Only keys starting with this."),
    binding: BindingOption = None,
    namespace: NamespaceOption = None,
    preview: PreviewFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Print every key (with expiration and metadata) as a JSON array."""
    target = local_target(config, env, persist_to, remote, binding)
    ident = namespace_id(target, binding, namespace, preview)

    async def every_key(ns: Any) -> list[Any]:
        keys: list[Any] = []
        page = await ns.list(prefix=prefix)
        keys += page["keys"]
        while not page["list_complete"]:
            page = await ns.list(prefix=prefix, cursor=page["cursor"])
            keys += page["keys"]
        return keys

    typer.echo(json.dumps(with_namespace(ident, target, every_key), indent=2, ensure_ascii=False))


@key_app.command("delete")
@handle_errors
def key_delete(
    key: str = typer.Argument(..., help="The key to delete."),
    binding: BindingOption = None,
    namespace: NamespaceOption = None,
    preview: PreviewFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Delete a key."""
    target = local_target(config, env, persist_to, remote, binding)
    ident = namespace_id(target, binding, namespace, preview)
    with_namespace(ident, target, lambda ns: ns.delete(key))
    typer.echo(f'Deleting the key "{key}" on namespace {ident}.')


def namespaces(target: LocalTarget) -> list[dict[str, Any]]:
    """The config's namespaces, then any others that have state under the persist dir."""
    from wranglerpy.cli import resources

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    if target.config is not None:
        for ns in target.config.kv_namespaces:
            if ns.id not in seen:
                seen.add(ns.id)
                rows.append({"id": ns.id, "title": ns.binding, "binding": ns.binding})
    for resource in resources.listing(target.persist_dir, "kv"):
        if resource.ident not in seen:
            seen.add(resource.ident)
            rows.append({"id": resource.ident, "title": resource.name})
    return rows


@namespace_app.command("list")
@handle_errors
def namespace_list(
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Print the namespaces of the config and of the local state, as JSON."""
    target = resolve_target(config, env, persist_to, remote, need_config=False)
    typer.echo(json.dumps(namespaces(target), indent=2, ensure_ascii=False))


@namespace_app.command("create")
@handle_errors
def namespace_create(
    title: str = typer.Argument(..., help="The new namespace's title (its binding name)."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Create a local namespace with a new id and print the config lines that bind it."""
    import uuid

    from wranglerpy.cli import resources

    target = resolve_target(config, env, persist_to, remote, need_config=False)
    ident = uuid.uuid4().hex  # Cloudflare's namespace ids are 32 hex digits
    resources.create(target.persist_dir, "kv", ident, title)
    typer.echo(f'✨ Created the local KV namespace "{title}" with id "{ident}".')
    source = target.config.config_path if target.config else None
    typer.echo(resources.binding_advice("kv_namespaces", {"binding": title, "id": ident}, source))


@namespace_app.command("delete")
@handle_errors
def namespace_delete(
    binding: BindingOption = None,
    namespace: NamespaceOption = None,
    preview: PreviewFlag = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Delete a local namespace and every key in it."""
    import sys

    from wranglerpy.cli import resources

    target = local_target(config, env, persist_to, remote, binding)
    ident = namespace_id(target, binding, namespace, preview)
    found = resources.find(target.persist_dir, "kv", ident)
    if found is None:
        raise UsageError(f'No local KV namespace "{ident}" in {target.persist_dir}.')
    if not yes and sys.stdin.isatty():
        typer.confirm(f'Delete the namespace "{ident}" and all its keys?', abort=True)
    resources.delete(found)
    typer.echo(f'Deleted the local KV namespace "{ident}".')


# `kv bulk put|delete` live in their own module; they join this group here.
from wranglerpy.cli import kv_bulk  # noqa: E402

app.add_typer(kv_bulk.bulk_app, name="bulk")
