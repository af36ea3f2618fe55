"""``wranglerpy r2``: wrangler's ``r2 object put|get|delete BUCKET/KEY`` on the local state
(whether or not ``wranglerpy dev`` is running: the bucket's SQLite file is in WAL mode)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from wranglerpy.cli._options import ConfigOption, EnvOption, LocalFlag, PersistOption, RemoteFlag
from wranglerpy.cli.common import err_console, handle_errors
from wranglerpy.cli.local_state import resolve_target, run_on
from wranglerpy.errors import BindingError, UsageError

if TYPE_CHECKING:
    from wranglerpy.bindings.r2 import R2BucketBinding

T = TypeVar("T")

CHUNK = 1024 * 1024

app = typer.Typer(help="Local R2: buckets and their objects.", no_args_is_help=True)
object_app = typer.Typer(help="Put, get and delete objects.", no_args_is_help=True)
app.add_typer(object_app, name="object")

ObjectPathArgument = Annotated[
    str, typer.Argument(metavar="BUCKET/KEY", help="The bucket and the object key.")
]
PipeFlag = Annotated[bool, typer.Option("--pipe", "-p", help="Use stdin/stdout instead of --file.")]


class R2ObjectNotFound(BindingError):
    """``r2 object get`` of a key the bucket does not have."""


def split_object_path(object_path: str) -> tuple[str, str]:
    """``"bucket/some/key"`` -> ``("bucket", "some/key")``, as wrangler splits it."""
    bucket, sep, key = object_path.partition("/")
    if not sep or not bucket or not key:
        raise UsageError(
            f'The object path must be in the form of {{bucket}}/{{key}} (got "{object_path}").'
        )
    return bucket, key


def _with_bucket(
    bucket: str,
    config: Path | None,
    env: str | None,
    persist_to: Path | None,
    remote: bool,
    action: Callable[[R2BucketBinding], Awaitable[T]],
) -> T:
    from wranglerpy.bindings.r2 import open_bucket

    target = resolve_target(config, env, persist_to, remote, need_config=False)
    # The local store, or the S3 server WRANGLERPY_R2_BACKEND names.
    return run_on(lambda: open_bucket(bucket, target.persist_dir), action)


async def _chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    """A file as the async byte stream R2's put accepts (so big files are never held whole)."""
    while chunk := handle.read(CHUNK):
        yield chunk


def _say(message: str, quiet: bool) -> None:
    # With --pipe stdout carries the object, so progress goes to stderr or nowhere.
    if not quiet:
        typer.echo(message)


@object_app.command("put")
@handle_errors
def object_put(
    object_path: ObjectPathArgument,
    file: Path = typer.Option(None, "--file", "-f", help="The file to upload."),
    pipe: PipeFlag = False,
    content_type: str = typer.Option(None, "--content-type", "--ct", help="Content-Type."),
    content_disposition: str = typer.Option(
        None, "--content-disposition", "--cd", help="Content-Disposition."
    ),
    content_encoding: str = typer.Option(
        None, "--content-encoding", "--ce", help="Content-Encoding."
    ),
    content_language: str = typer.Option(
        None, "--content-language", "--cl", help="Content-Language."
    ),
    cache_control: str = typer.Option(None, "--cache-control", "--cc", help="Cache-Control."),
    expires: str = typer.Option(None, "--expires", help="Expires (an HTTP date)."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Create an object (from --file, or stdin with --pipe)."""
    bucket, key = split_object_path(object_path)
    if (file is None) == (not pipe):
        raise UsageError("Pass exactly one of --file or --pipe.")
    headers = {
        "content-type": content_type,
        "content-disposition": content_disposition,
        "content-encoding": content_encoding,
        "content-language": content_language,
        "cache-control": cache_control,
        "expires": expires,
    }
    http_metadata = {name: value for name, value in headers.items() if value is not None}
    handle: IO[bytes]
    if file is not None:
        try:
            handle = open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"Cannot read --file {file}: {exc.strerror or exc}") from None
    else:
        handle = sys.stdin.buffer
    _say(f'Creating object "{key}" in bucket "{bucket}".', pipe)
    try:
        _with_bucket(
            bucket,
            config,
            env,
            persist_to,
            remote,
            lambda store: store.put(key, _chunks(handle), httpMetadata=http_metadata),
        )
    finally:
        if file is not None:
            handle.close()
    _say("Upload complete.", pipe)


@object_app.command("get")
@handle_errors
def object_get(
    object_path: ObjectPathArgument,
    file: Path = typer.Option(None, "--file", "-f", help="Write here (default: stdout)."),
    pipe: PipeFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Fetch an object into --file, or to stdout."""
    bucket, key = split_object_path(object_path)
    to_stdout = file is None
    if not pipe:  # with --pipe the output is only the object, as in wrangler
        if to_stdout:
            err_console.print(f'Downloading "{key}" from "{bucket}".', markup=False)
        else:
            typer.echo(f'Downloading "{key}" from "{bucket}".')

    async def download(store: Any) -> None:
        obj = await store.get(key)
        if obj is None:
            raise R2ObjectNotFound(
                f'The specified key does not exist: "{key}" in bucket "{bucket}".'
            )
        if to_stdout:
            out = sys.stdout.buffer
            async for chunk in obj.body:
                out.write(chunk)
            out.flush()
            return
        assert file is not None
        await _write_file(file, obj.body)

    _with_bucket(bucket, config, env, persist_to, remote, download)
    if not to_stdout and not pipe:
        typer.echo("Download complete.")


async def _write_file(path: Path, chunks: AsyncIterator[bytes]) -> None:
    """Write beside ``path`` first and rename, so a failed download leaves no half file."""
    tmp = path.with_name(f".{path.name}.wranglerpy-tmp")
    try:
        with open(tmp, "wb") as out:
            async for chunk in chunks:
                out.write(chunk)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"Cannot write --file {path}: {exc.strerror or exc}") from None


@object_app.command("delete")
@handle_errors
def object_delete(
    object_path: ObjectPathArgument,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Delete an object (deleting a missing key is not an error, as on R2)."""
    bucket, key = split_object_path(object_path)
    typer.echo(f'Deleting object "{key}" from bucket "{bucket}".')
    _with_bucket(bucket, config, env, persist_to, remote, lambda store: store.delete(key))
    typer.echo("Delete complete.")


bucket_app = typer.Typer(help="Create, list and delete buckets.", no_args_is_help=True)
app.add_typer(bucket_app, name="bucket")

# R2's bucket naming rules: 3-63 characters of a-z, 0-9 and "-", starting and ending with a
# letter or digit.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


def _validate_bucket_name(name: str) -> None:
    if not _BUCKET_NAME.fullmatch(name):
        raise UsageError(
            f'The bucket name "{name}" is invalid: bucket names are 3 to 63 characters of '
            "lowercase letters (a-z), digits (0-9) and hyphens (-), and begin and end with a "
            "letter or digit."
        )


@bucket_app.command("create")
@handle_errors
def bucket_create(
    name: Annotated[str, typer.Argument(help="The new bucket's name.")],
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Create a local bucket and print the config lines that bind it."""
    from wranglerpy.cli import resources

    _validate_bucket_name(name)
    target = resolve_target(config, env, persist_to, remote, need_config=False)
    try:
        resources.create(target.persist_dir, "r2", name, name)
    except FileExistsError:
        raise UsageError(f'The bucket "{name}" already exists locally.') from None
    typer.echo(f'✨ Created the local bucket "{name}".')
    source = target.config.config_path if target.config else None
    fields = {"binding": name.upper().replace("-", "_"), "bucket_name": name}
    typer.echo(resources.binding_advice("r2_buckets", fields, source))


@bucket_app.command("list")
@handle_errors
def bucket_list(
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """The local buckets, with when they were created (buckets made by a binding on first use
    have no creation date)."""
    from wranglerpy.cli import resources, tables

    target = resolve_target(config, env, persist_to, remote, need_config=False)
    rows = [(b.ident, b.created_on or "-") for b in resources.listing(target.persist_dir, "r2")]
    tables.print_table(("name", "creation_date"), rows)


@bucket_app.command("delete")
@handle_errors
def bucket_delete(
    name: Annotated[str, typer.Argument(help="The bucket to delete.")],
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    local: LocalFlag = False,
    remote: RemoteFlag = False,
) -> None:
    """Delete an empty local bucket (as on R2, a bucket with objects cannot be deleted)."""
    from wranglerpy.cli import resources

    target = resolve_target(config, env, persist_to, remote, need_config=False)
    found = resources.find(target.persist_dir, "r2", name)
    if found is None:
        raise UsageError(f'The bucket "{name}" does not exist locally ({target.persist_dir}).')

    async def count(store: R2BucketBinding) -> int:
        listed = await store.list({"limit": 1})
        return len(listed.objects)

    if _with_bucket(name, config, env, persist_to, remote, count):
        raise UsageError(f'The bucket "{name}" is not empty: delete its objects first (as on R2).')
    resources.delete(found)
    typer.echo(f'Deleted the local bucket "{name}".')
