"""``wranglerpy queues list|create|delete|info|purge|peek``: the local queues that workers'
``queues.producers``/``queues.consumers`` use, in the persist dir's queue store.

Vocabulary and messages follow wrangler (workers-sdk packages/wrangler/src/queues/cli/
commands/); ``peek`` is wranglerpy's own: it shows local messages without consuming them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from wranglerpy.cli._options import ConfigOption, EnvOption, PersistOption
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import resolve_target
from wranglerpy.errors import UsageError

if TYPE_CHECKING:
    from wranglerpy.bindings.queues.store import QueueInfo, QueueStore

app = typer.Typer(help="Local Cloudflare Queues: list, create, inspect and purge queues.",
                  no_args_is_help=True)  # fmt: skip


def _store(config: ConfigOption, env: EnvOption, persist_to: PersistOption) -> QueueStore:
    from wranglerpy.bindings.queues import open_store

    target = resolve_target(config, env, persist_to, False, need_config=False)
    return open_store(target.persist_dir)


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).isoformat(timespec="seconds")


def _check_name(name: str) -> None:
    if not name or len(name) > 63 or not all(c.isalnum() or c in "-_" for c in name):
        raise UsageError(
            f'"{name}" is not a valid queue name: use 1-63 letters, digits, "-" and "_"'
        )


@app.command("list")
@handle_errors
def list_queues(
    config: ConfigOption = None, env: EnvOption = None, persist_to: PersistOption = None
) -> None:
    """List the local queues with their message counts."""
    store = _store(config, env, persist_to)
    try:
        queues = store.queues()
    finally:
        store.close()
    if not queues:
        typer.echo("No queues yet: they appear when a worker sends to one or you create one.")
        return
    table = Table("name", "created_on", "ready", "delayed", "in_flight", "producers", "consumers")
    for q in queues:
        table.add_row(
            q.name, _when(q.created_on), str(q.ready), str(q.delayed), str(q.in_flight),
            str(len(q.producers)), str(len(q.consumers)),
        )  # fmt: skip
    Console(soft_wrap=True).print(table)


@app.command("create")
@handle_errors
def create(
    name: str = typer.Argument(..., help="The name of the queue."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Create a local queue (sending to an unknown queue creates it too)."""
    _check_name(name)
    store = _store(config, env, persist_to)
    try:
        typer.echo(f"🌀 Creating queue '{name}'")
        if not store.create_queue(name):
            raise UsageError(f"A queue named '{name}' already exists.")
    finally:
        store.close()
    typer.echo(f"✅ Created queue '{name}'")


@app.command("delete")
@handle_errors
def delete(
    name: str = typer.Argument(..., help="The name of the queue."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Delete a local queue and its messages."""
    store = _store(config, env, persist_to)
    try:
        typer.echo(f"Deleting queue {name}.")
        if not store.delete_queue(name):
            raise UsageError(f"No queue named '{name}'. See `wranglerpy queues list`.")
    finally:
        store.close()
    typer.echo(f"Deleted queue {name}.")


def _find(store: QueueStore, name: str) -> QueueInfo:
    for q in store.queues():
        if q.name == name:
            return q
    raise UsageError(f"No queue named '{name}'. See `wranglerpy queues list`.")


@app.command("info")
@handle_errors
def info(
    name: str = typer.Argument(..., help="The name of the queue."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Show a queue: its producers, consumers and messages."""
    store = _store(config, env, persist_to)
    try:
        q = _find(store, name)
    finally:
        store.close()
    typer.echo(f"Queue Name: {q.name}")
    typer.echo(f"Created On: {_when(q.created_on)}")
    typer.echo(f"Number of Producers: {len(q.producers)}")
    if q.producers:
        typer.echo("Producers: " + ", ".join(f"worker:{w}" for w in q.producers))
    typer.echo(f"Number of Consumers: {len(q.consumers)}")
    if q.consumers:
        typer.echo("Consumers: " + ", ".join(f"worker:{w}" for w in q.consumers))
    typer.echo(f"Messages: {q.ready} ready, {q.delayed} delayed, {q.in_flight} in flight")


@app.command("purge")
@handle_errors
def purge(
    name: str = typer.Argument(..., help="The name of the queue."),
    force: bool = typer.Option(False, "--force", help="Skip the confirmation."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Delete every message of a local queue."""
    if not force:
        typed = typer.prompt(f"This operation will permanently delete all the messages in "
                             f"queue {name}. Type {name} to proceed.", default="")  # fmt: skip
        if typed != name:
            raise UsageError("Incorrect queue name provided. Skipping purge operation")
    store = _store(config, env, persist_to)
    try:
        _find(store, name)
        count = store.purge(name)
    finally:
        store.close()
    typer.echo(f"Purged Queue '{name}' ({count} messages)")


@app.command("peek")
@handle_errors
def peek(
    name: str = typer.Argument(..., help="The name of the queue."),
    limit: int = typer.Option(10, "--limit", min=1, max=1000, help="How many messages."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Show the oldest local messages of a queue without consuming them."""
    from wranglerpy.bindings.queues.codec import decode

    store = _store(config, env, persist_to)
    try:
        _find(store, name)
        rows = store.peek(name, limit)
    finally:
        store.close()
    if not rows:
        typer.echo(f"Queue '{name}' has no messages.")
        return
    # One line per message: bodies stay whole (up to 200 characters) whatever the width.
    for message, state in rows:
        try:
            body = repr(decode(message.body, message.content_type))
        except (ValueError, UnicodeDecodeError):
            body = f"<{len(message.body)} bytes>"
        if len(body) > 200:
            body = body[:197] + "..."
        typer.echo(
            f"{message.id}  {_when(message.sent_ms / 1000)}  {state}  "
            f"attempts={message.attempts}  {message.content_type}  {body}"
        )
