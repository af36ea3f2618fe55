"""``wranglerpy workflows list|describe|trigger`` and ``workflows instances
list|describe|terminate|pause|resume|restart|send-event``: the local workflow store.

Command names and arguments follow wrangler (workers-sdk packages/wrangler/src/workflows/
commands/): a workflow is named by its ``name``, an instance by its id (``latest`` for the
newest). The changes go through the same store a running ``dev`` uses, so a paused or
terminated instance stops there at once or at its next step.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from wranglerpy.cli._options import ConfigOption, EnvOption, PersistOption
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import LocalTarget, resolve_target
from wranglerpy.errors import UsageError

if TYPE_CHECKING:
    from wranglerpy.bindings.workflows.store import InstanceRow, WorkflowStore
    from wranglerpy.config.workflows import Workflow

app = typer.Typer(help="Local Cloudflare Workflows: list workflows, trigger and manage instances.",
                  no_args_is_help=True)  # fmt: skip
instances_app = typer.Typer(help="Manage the instances of a local workflow.", no_args_is_help=True)
app.add_typer(instances_app, name="instances")

STATUSES = ("queued", "running", "paused", "errored", "terminated", "complete", "waiting")
_EMOJI = {
    "queued": "🔄 Queued",
    "running": "▶ Running",
    "paused": "⏸️ Paused",
    "errored": "❌ Errored",
    "terminated": "🚫 Terminated",
    "complete": "✅ Completed",
    "waiting": "⏰ Waiting",
}


def _target(config: Path | None, env: str | None, persist_to: Path | None) -> LocalTarget:
    return resolve_target(config, env, persist_to, False, need_config=False)


def _open(target: LocalTarget) -> WorkflowStore:
    from wranglerpy.bindings.workflows import open_store

    return open_store(target.persist_dir)


def _configured(target: LocalTarget, env: str | None) -> dict[str, tuple[Workflow, str]]:
    """Workflow name -> (its config, worker name), from every config beside the one in use."""
    from wranglerpy.config.load import discover_configs, load_worker
    from wranglerpy.errors import ConfigError

    workers = [target.config] if target.config is not None else []
    folder = target.config.root if target.config is not None else Path.cwd()
    try:
        paths = discover_configs(folder)
    except ConfigError:
        paths = []
    for path in paths:
        if any(w.config_path == path.resolve() for w in workers):
            continue
        try:
            workers.append(load_worker(path, env))
        except ConfigError:
            continue
    found: dict[str, tuple[Workflow, str]] = {}
    for worker in workers:
        for wf in worker.workflows:
            if wf.script_name is None or wf.name not in found:
                found[wf.name] = (wf, wf.script_name or worker.name)
    return found


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).isoformat(timespec="seconds")


def _show(stored: str | None) -> str:
    """A stored value (structured-clone JSON) as plain JSON text."""
    from wranglerpy.bindings.queues.codec import clone_loads
    from wranglerpy.jsobject import JSObject

    def plain(value: Any) -> Any:
        return value.to_py() if isinstance(value, JSObject) else value

    if stored is None:
        return ""
    try:
        return json.dumps(plain(clone_loads(stored)), default=str)
    except ValueError:
        return stored


def _print(table: Table) -> None:
    Console(soft_wrap=True).print(table)


@app.command("list")
@handle_errors
def list_workflows(
    config: ConfigOption = None, env: EnvOption = None, persist_to: PersistOption = None
) -> None:
    """List the workflows of this project and of the local store."""
    target = _target(config, env, persist_to)
    configured = _configured(target, env)
    store = _open(target)
    try:
        counts = dict(store.workflows())
    finally:
        store.close()
    names = sorted(set(configured) | set(counts))
    if not names:
        typer.echo("No workflows: add a [[workflows]] entry to a worker's config.")
        return
    table = Table("Name", "Script name", "Class name", "Instances")
    for name in names:
        wf, script = configured.get(name, (None, "-"))
        total = sum(counts.get(name, {}).values())
        table.add_row(name, script, wf.class_name if wf else "-", str(total))
    _print(table)


@app.command("describe")
@handle_errors
def describe(
    name: str = typer.Argument(..., help="The name of the workflow."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Show a workflow and how many of its instances are in each status."""
    target = _target(config, env, persist_to)
    configured = _configured(target, env)
    store = _open(target)
    try:
        counts = dict(store.workflows()).get(name)
    finally:
        store.close()
    if name not in configured and counts is None:
        raise UsageError(f'No workflow named "{name}" in this project or the local store.')
    wf, script = configured.get(name, (None, "-"))
    typer.echo(f"Name:        {name}")
    typer.echo(f"Script name: {script}")
    typer.echo(f"Class name:  {wf.class_name if wf else '-'}")
    for status in STATUSES:
        typer.echo(f"{_EMOJI[status]:<16}{(counts or {}).get(status, 0)}")


@app.command("trigger")
@handle_errors
def trigger(
    name: str = typer.Argument(..., help="The name of the workflow."),
    params: str = typer.Argument("", help="Params for the instance, as JSON."),
    instance_id: str | None = typer.Option(None, "--id", help="The instance id (default: a UUID)."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Create an instance; the worker defining the workflow runs it when dev is up."""
    from wranglerpy.bindings.workflows.binding import WorkflowBinding
    from wranglerpy.bindings.workflows.errors import WorkflowError

    try:
        payload = json.loads(params) if params else {}
    except json.JSONDecodeError as exc:
        raise UsageError(f"params must be JSON: {exc}") from None
    store = _open(_target(config, env, persist_to))
    try:
        options: dict[str, Any] = {"params": payload}
        if instance_id is not None:
            options["id"] = instance_id
        instance = asyncio.run(WorkflowBinding(store, name).create(options))
    except WorkflowError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    typer.echo(f'🚀 Workflow instance "{instance.id}" has been queued successfully')


def _instance(store: WorkflowStore, name: str, iid: str) -> InstanceRow:
    if iid == "latest":
        rows = store.instances(name, limit=1)
        if not rows:
            raise UsageError(f'Workflow "{name}" has no instances.')
        return rows[0]
    row = store.get(name, iid)
    if row is None:
        raise UsageError(f'No instance "{iid}" of workflow "{name}".')
    return row


@instances_app.command("list")
@handle_errors
def instances_list(
    name: str = typer.Argument(..., help="The name of the workflow."),
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    limit: int = typer.Option(50, "--per-page", min=1, max=1000, help="How many instances."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """List the instances of a workflow, newest first."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status must be one of: {', '.join(STATUSES)}")
    store = _open(_target(config, env, persist_to))
    try:
        rows = store.instances(name, status, limit)
    finally:
        store.close()
    if not rows:
        typer.echo(
            f'Workflow "{name}" has no instances' + (f" in status {status}." if status else ".")
        )
        return
    table = Table("Id", "Created", "Modified", "Status")
    for row in rows:
        table.add_row(row.id, _when(row.created_on), _when(row.modified_on), _EMOJI[row.status])
    _print(table)


@instances_app.command("describe")
@handle_errors
def instances_describe(
    name: str = typer.Argument(..., help="The name of the workflow."),
    instance_id: str = typer.Argument("latest", help="The instance id, or latest."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Show an instance: status, times, params, output or error, and every step."""
    store = _open(_target(config, env, persist_to))
    try:
        row = _instance(store, name, instance_id)
        steps = store.steps(name, row.id)
    finally:
        store.close()
    typer.echo(f"Instance Id: {row.id}")
    typer.echo(f"Status:      {_EMOJI[row.status]}")
    typer.echo(f"Queued:      {_when(row.created_on)}")
    typer.echo(f"Start:       {_when(row.started_on)}")
    typer.echo(f"End:         {_when(row.ended_on)}")
    typer.echo(f"Params:      {_show(row.params)}")
    if row.output is not None:
        typer.echo(f"Output:      {_show(row.output)}")
    if row.error is not None:
        error = json.loads(row.error)
        typer.echo(f"Error:       {error.get('name')}: {error.get('message')}")
    if steps:
        table = Table("Step", "Type", "State", "Attempts", "Start", "End", "Output / error")
        for s in steps:
            shown = (s.error or "") if s.state == "failed" else _show(s.result)
            text = shown[:80]
            table.add_row(s.name, s.kind, s.state, str(s.attempts), _when(s.started_on),
                          _when(s.ended_on), text)  # fmt: skip
        _print(table)


def _change(action: str, name: str, iid: str, target: LocalTarget, **kwargs: Any) -> str:
    from wranglerpy.bindings.workflows.binding import WorkflowInstance
    from wranglerpy.bindings.workflows.errors import WorkflowError

    store = _open(target)
    try:
        row = _instance(store, name, iid)
        handle = WorkflowInstance(store, name, row.id)
        asyncio.run(getattr(handle, action)(**kwargs))
    except WorkflowError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    return str(row.id)


def _make_action(action: str, done: str, help_text: str) -> None:
    @instances_app.command(action, help=help_text)
    @handle_errors
    def command(
        name: str = typer.Argument(..., help="The name of the workflow."),
        instance_id: str = typer.Argument(..., help="The instance id, or latest."),
        config: ConfigOption = None,
        env: EnvOption = None,
        persist_to: PersistOption = None,
    ) -> None:
        iid = _change(action, name, instance_id, _target(config, env, persist_to))
        typer.echo(f'{done} "{iid}" of workflow "{name}"')


_make_action("pause", "⏸️ Paused instance", "Pause an instance (it stops at its next step).")
_make_action("resume", "🔄 Resumed instance", "Resume a paused instance.")
_make_action("terminate", "🥷 Terminated instance", "Stop an instance for good.")
_make_action("restart", "🥷 Restarted instance", "Run an instance again from the start.")


@instances_app.command("send-event")
@handle_errors
def send_event(
    name: str = typer.Argument(..., help="The name of the workflow."),
    instance_id: str = typer.Argument(..., help="The instance id, or latest."),
    event_type: str = typer.Option(..., "--type", help="The event type."),
    payload: str = typer.Option("{}", "--payload", help="The event payload, as JSON."),
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
) -> None:
    """Send an event that a step.wait_for_event of the instance receives."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--payload must be JSON: {exc}") from None
    target = _target(config, env, persist_to)
    iid = _change("send_event", name, instance_id, target, type=event_type, payload=data)
    typer.echo(f'📤 Sent event "{event_type}" to instance "{iid}" of workflow "{name}"')
