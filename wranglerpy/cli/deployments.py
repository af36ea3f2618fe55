"""``wranglerpy deployments list``, ``versions list`` and ``rollback``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wranglerpy.cli._options import JsonFlag, NameOption, StateDirOption, YesFlag
from wranglerpy.cli._options import WorkerConfigOption as ConfigOption
from wranglerpy.cli._options import WorkerEnvOption as EnvOption
from wranglerpy.cli.common import handle_errors

if TYPE_CHECKING:
    from wranglerpy.deploy.history import Deployment, DeploymentLog
    from wranglerpy.deploy.paths import EdgePaths

deployments_app = typer.Typer(
    help="Deployments of workers on the local edge.", no_args_is_help=True
)
versions_app = typer.Typer(help="Versions (snapshots) of workers.", no_args_is_help=True)

WorkerArgument = Annotated[str | None, typer.Argument(help="Worker name (default: the config's).")]
TargetOption = Annotated[
    str, typer.Option("--target", help="edge (this machine) or ray (a Ray Serve cluster).")
]


def _target_state(target: str, state_dir: Path | None) -> Path | None:
    """The state folder of ``target``: the Ray target keeps its own versions and history."""
    if target == "edge":
        return state_dir
    from wranglerpy.ray.cli import check_target, ray_state_dir

    check_target(target)
    return ray_state_dir(state_dir)


def worker_name(worker: str | None, config: Path | None, env: str | None) -> str:
    """WORKER as given, else the name in the config here (as wrangler does)."""
    if worker:
        return worker
    from wranglerpy.cli.local_state import find_config
    from wranglerpy.config.load import load_worker
    from wranglerpy.errors import UsageError

    path = find_config(config)
    if path is None:
        raise UsageError("Name the worker (WORKER argument) or run this next to its config.")
    return load_worker(path, env).name


def locate(
    state_dir: Path | None, worker: str | None, config: Path | None, env: str | None
) -> tuple[EdgePaths, str]:
    """The edge's state folder and the worker's name, as every command here needs them."""
    from wranglerpy.deploy.paths import EdgePaths

    return EdgePaths.resolve(state_dir), worker_name(worker, config, env)


def _deployments(paths: EdgePaths, name: str) -> list[Deployment]:
    """``name``'s deployments, oldest first; an error when it never was deployed."""
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.errors import DeployError

    items = DeploymentLog(paths.deployments).history(name)
    if not items:
        raise DeployError(f'"{name}" has never been deployed to the local edge ({paths.root}).')
    return items


@deployments_app.command("list")
@handle_errors
def deployments_list(
    worker: WorkerArgument = None,
    name_option: NameOption = None,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
    target: TargetOption = "edge",
) -> None:
    """The deployments of WORKER, oldest first; the last one is live."""
    state_dir = _target_state(target, state_dir)
    rows = _deployment_rows(*locate(state_dir, worker or name_option, config, env))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"Deployments of {rows[-1]['worker']} (other workers: --name WORKER)\n")
    for index, row in enumerate(rows):
        _print_deployment(row, active=index == len(rows) - 1)


@deployments_app.command("status")
@handle_errors
def deployments_status(
    worker: WorkerArgument = None,
    name_option: NameOption = None,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """WORKER's live deployment, and whether the local edge serves it right now."""
    from wranglerpy.deploy.client import running_edge

    paths, name = locate(state_dir, worker or name_option, config, env)
    row = _deployment_rows(paths, name)[-1]
    edge = running_edge(paths)
    serving = None
    if edge is not None:
        live = edge.status().workers.get(name)
        if live is not None:
            serving = live.versions or [[live.version, 100.0]]
    row["serving"] = serving is not None and _same_split(serving, row["versions"])
    if as_json:
        typer.echo(json.dumps(row, indent=2))
        return
    _print_deployment(row, active=True)
    if edge is None:
        typer.echo("▲ The local edge is not running: `wranglerpy edge start` serves it again.")
    elif not row["serving"]:
        typer.echo(f"▲ The edge on {edge.url} does not serve it (see {paths.log}).")
    else:
        typer.echo(f"Served by the local edge on {edge.url}.")


def _deployment_rows(paths: EdgePaths, name: str) -> list[dict[str, Any]]:
    from dataclasses import asdict

    from wranglerpy.deploy.versions import load_version
    from wranglerpy.errors import DeployError

    rows = []
    for item in _deployments(paths, name):
        row: dict[str, Any] = asdict(item)
        row["versions"] = [[v, p] for v, p in item.split]
        try:
            row["placement"] = load_version(paths, item.version_id).meta.get("placement")
        except DeployError:
            row["placement"] = None
        rows.append(row)
    return rows


def _same_split(a: list[list[Any]], b: list[list[Any]]) -> bool:
    return sorted((str(v), float(p)) for v, p in a) == sorted((str(v), float(p)) for v, p in b)


def _print_deployment(row: dict[str, Any], active: bool) -> None:
    typer.echo(f"Created:     {row['created_on']}{'  (active)' if active else ''}")
    typer.echo(f"Author:      {row['author']}")
    typer.echo(f"Source:      {row['source']}")
    typer.echo(f"Message:     {row['message'] or '-'}")
    typer.echo(f"Deployment:  {row['id']}")
    for index, (version, pct) in enumerate(row["versions"]):
        label = "Version(s):  " if index == 0 else " " * 13
        typer.echo(f"{label}({pct:g}%) {version}")
    typer.echo(f"Placement:   {row['placement'] or 'off (default)'}")
    typer.echo("")


@versions_app.command("list")
@handle_errors
def versions_list(
    worker: WorkerArgument = None,
    name_option: NameOption = None,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
    target: TargetOption = "edge",
) -> None:
    """Every stored version of WORKER, oldest first."""
    state_dir = _target_state(target, state_dir)
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.deploy.versions import list_versions
    from wranglerpy.errors import DeployError

    paths, name = locate(state_dir, worker or name_option, config, env)
    versions = list_versions(paths, name)
    if not versions:
        raise DeployError(f'No versions of "{name}" in {paths.versions}.')
    current = DeploymentLog(paths.deployments).current(name)
    shares = dict(current.split) if current else {}
    if as_json:
        rows = [
            v.meta | {"active": v.id in shares, "percentage": shares.get(v.id, 0.0)}
            for v in versions
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"Versions of {name} (other workers: --name WORKER)\n")
    for version in versions:
        mark = f"  (active, {shares[version.id]:g}%)" if version.id in shares else ""
        typer.echo(f"Version ID:  {version.id}{mark}")
        typer.echo(f"Created:     {version.created_on}")
        typer.echo(f"Tag:         {version.tag or '-'}")
        typer.echo(f"Message:     {version.message or '-'}")
        typer.echo(f"Files:       {version.meta.get('files')} from {version.meta.get('source')}")
        typer.echo(f"Placement:   {version.meta.get('placement') or 'off (default)'}")
        typer.echo("")


@handle_errors
def rollback(
    version_id: str = typer.Argument(
        None,
        help="Version id or unique prefix (default: the newest earlier deployment's version at 100%).",
    ),
    name_option: NameOption = None,
    message: str = typer.Option("", "--message", "-m", help="Recorded with the rollback."),
    yes: YesFlag = False,
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
    deploy_target: TargetOption = "edge",
    ray_address: str = typer.Option(None, "--ray-address", help="The Ray cluster (--target ray)."),
) -> None:
    """Switch a worker back to an earlier version (wrangler's `rollback [VERSION_ID] --name`),
    with zero failed requests."""
    state_dir = _target_state(deploy_target, state_dir)
    from wranglerpy.deploy.client import running_edge, start_edge
    from wranglerpy.deploy.history import rollback_target
    from wranglerpy.deploy.versions import find_version
    from wranglerpy.errors import DeployError

    paths, name = locate(state_dir, name_option, config, env)
    history = _deployments(paths, name)
    live = history[-1].version_id
    if version_id:
        target = find_version(paths, name, version_id).id
    else:
        found = rollback_target(history)
        if found is None:
            raise DeployError(
                f'"{name}" has no earlier deployment of one version at 100% to roll back to; '
                "give a VERSION_ID."
            )
        target = found
    if history[-1].split == [(target, 100.0)]:
        raise DeployError(f'"{name}" already runs version {target}.')
    serving = " and ".join(f"{v} at {p:g}%" for v, p in history[-1].split)
    typer.echo(f"Rolling back {name} from {serving} to {target} (100% of traffic).")
    typer.echo(
        "▲ Only code, config and vars roll back: KV, D1, R2 and Analytics Engine data stay as "
        "they are now."
    )
    for line in _secret_changes(paths, live, target):
        typer.echo(line)
    if not yes and sys.stdin.isatty():
        typer.confirm("Continue?", abort=True)
    if deploy_target == "ray":
        from wranglerpy.ray.cli import rollback_on_ray

        seconds = rollback_on_ray(state_dir, ray_address, name, target, typer.echo, message)
        typer.echo(f"✔ Rolled back {name} on Ray in {seconds:.2f} s")
        return
    edge = running_edge(paths) or start_edge(paths)[0]
    answer = edge.deploy(target, message, "rollback")
    typer.echo(f"✔ Rolled back {name} in {answer.seconds:.2f} s")
    typer.echo(f"Current Version ID: {target}")


def _secret_changes(paths: EdgePaths, live: str, target: str) -> list[str]:
    """Secrets belong to a version: say when rolling back changes which ones the worker has."""
    from wranglerpy.deploy.versions import load_version

    before = {k for k, _ in load_version(paths, live).config().secrets}
    after = {k for k, _ in load_version(paths, target).config().secrets}
    if before == after:
        return []
    names = ", ".join(sorted(after)) or "none"
    return [f"▲ Secrets belong to versions: after the rollback the worker has {names}."]


@handle_errors
def delete(
    worker: WorkerArgument = None,
    name_option: NameOption = None,
    yes: YesFlag = False,
    force: bool = typer.Option(
        False, "--force", help="Delete even when other deployed workers bind to it."
    ),
    config: ConfigOption = None,
    env: EnvOption = None,
    state_dir: StateDirOption = None,
) -> None:
    """Remove WORKER from the local edge: it stops serving and its deployments are forgotten."""
    from wranglerpy.deploy.client import running_edge
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.errors import DeployError

    paths, name = locate(state_dir, worker or name_option, config, env)
    log = DeploymentLog(paths.deployments)
    if not log.history(name):
        raise DeployError(f'"{name}" is not deployed on the local edge ({paths.root}).')
    callers = _callers(paths, log, name)
    if callers and not force:
        raise DeployError(
            f'"{name}" is the target of service bindings of deployed workers: '
            f"{', '.join(callers)}. Their calls would fail. Delete those first, or pass --force."
        )
    typer.echo(
        f"Deleting {name} from the local edge. Its KV/D1/R2 data stay in the edge's state; "
        f"its versions stay in {paths.versions}."
    )
    if not yes and sys.stdin.isatty():
        typer.confirm("Continue?", abort=True)
    edge = running_edge(paths)
    if edge is not None:
        edge.delete(name)
    else:
        log.remove(name)
    typer.echo(f"✔ Deleted {name}")


def _callers(paths: EdgePaths, log: DeploymentLog, name: str) -> list[str]:
    """Deployed workers whose live version has a service binding to ``name``."""
    from wranglerpy.deploy.publish import binding_target_deployed
    from wranglerpy.deploy.versions import load_version
    from wranglerpy.errors import DeployError

    found = []
    for other in log.workers():
        current = log.current(other)
        if other == name or current is None:
            continue
        try:
            services = load_version(paths, current.version_id).config().services
        except DeployError:
            continue
        if any(binding_target_deployed(s, {name}) for s in services):
            found.append(other)
    return found


# `versions upload|view|deploy` live in their own module and register on versions_app.
from wranglerpy.cli import versions as _versions  # noqa: E402, F401
