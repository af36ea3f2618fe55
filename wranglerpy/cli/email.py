"""``wranglerpy email``: the mail workers sent through ``send_email`` bindings, recorded
locally instead of delivered (``list`` the newest, ``show`` one in full)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from wranglerpy.cli._options import ConfigOption, EnvOption, JsonFlag, PersistOption
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import resolve_target
from wranglerpy.errors import UsageError

app = typer.Typer(help="Mail sent by send_email bindings (recorded locally).", no_args_is_help=True)


def _outbox(config: Path | None, env: str | None, persist_to: Path | None) -> Path:
    from wranglerpy.bindings.send_email import outbox_path

    target = resolve_target(config, env, persist_to, False, need_config=False)
    return outbox_path(target.persist_dir)


@app.command("list")
@handle_errors
def list_(
    limit: int = typer.Option(20, "--limit", help="How many messages, newest first."),
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """List recorded messages, newest first."""
    from wranglerpy.bindings.send_email.binding import list_messages

    messages = list_messages(_outbox(config, env, persist_to), limit)
    if as_json:
        typer.echo(json.dumps(messages, indent=2, ensure_ascii=False))
        return
    if not messages:
        typer.echo("No messages sent yet.")
        return
    table = Table()
    for column in ("id", "sent", "binding", "from", "to", "subject"):
        table.add_column(column)
    for m in messages:
        sent = dt.datetime.fromtimestamp(m["sent_at"]).isoformat(timespec="seconds")
        table.add_row(m["id"][:8], sent, m["binding"], m["from"], ", ".join(m["to"]), m["subject"])
    Console(highlight=False).print(table)


@app.command("show")
@handle_errors
def show(
    message_id: str = typer.Argument(..., help="The message id (or a unique prefix of it)."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Print one message: the raw MIME, or the structured message as JSON."""
    from wranglerpy.bindings.send_email.binding import read_message

    found = read_message(_outbox(config, env, persist_to), message_id)
    if found is None:
        raise UsageError(f'No single recorded message matches "{message_id}".')
    kind, body = found
    text = body.decode("utf-8", "replace")
    typer.echo(
        json.dumps(json.loads(text), indent=2, ensure_ascii=False) if kind == "builder" else text
    )
