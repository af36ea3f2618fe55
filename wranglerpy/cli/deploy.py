"""``wranglerpy deploy``: build, snapshot and switch the local edge to the new version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from wranglerpy.cli._options import (
    ConfigsOption,
    EnvOption,
    KVBackendOption,
    R2BackendOption,
    StateDirOption,
)
from wranglerpy.cli.common import handle_errors

if TYPE_CHECKING:
    from wranglerpy.config.schema import WorkerConfig


def refuse_unuploadable(worker: WorkerConfig, nothing: str = "deployed") -> None:
    """wrangler's refusals before an upload (its `deploy` and `versions upload` share them):
    no main module, or no compatibility date (`dev` only warns; Cloudflare refuses)."""
    from wranglerpy.errors import ConfigError

    if worker.main is None or not worker.main.is_file():
        raise ConfigError(
            f'Worker "{worker.name}": main entry point {worker.main or "(none)"} does not '
            f"exist ({worker.config_path}). Nothing was {nothing}."
        )
    if worker.compatibility_date is None:
        from wranglerpy.config.compat_date import effective_date

        today = effective_date(None)
        toml = worker.config_path.suffix == ".toml"
        line = f'compatibility_date = "{today}"' if toml else f'"compatibility_date": "{today}"'
        raise ConfigError(
            f'Worker "{worker.name}": a compatibility_date is required when uploading a Worker. '
            f"Add {line} to {worker.config_path}. Nothing was {nothing}. See "
            "https://developers.cloudflare.com/workers/platform/compatibility-dates"
        )


@handle_errors
def deploy(
    config: ConfigsOption = None,
    env: EnvOption = None,
    all_workers: bool = typer.Option(
        False,
        "--all",
        help="Deploy every config in the folder, binding targets first (wranglerpy extension).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and build; change nothing."),
    message: str = typer.Option("", "--message", "-m", help="Recorded with the deployment."),
    edge_port: int = typer.Option(
        None,
        "--edge-port",
        help="Port if deploy starts the edge (default: its last port, else 8080; wranglerpy "
        "extension).",
    ),
    state_dir: StateDirOption = None,
    target: str = typer.Option(
        "edge",
        "--target",
        help="edge (this machine) or ray (a Ray Serve cluster: pip install "
        "'wranglerpy[ray]'; wranglerpy extension).",
    ),
    ray_address: str = typer.Option(
        None, "--ray-address", help="The Ray cluster (default: the one started on this machine)."
    ),
    ray_config: Path = typer.Option(
        None, "--ray-config", help="Replicas and placement (default: ray.toml beside the configs)."
    ),
    ray_http_port: int = typer.Option(
        None, "--ray-http-port", help="Port of Serve's HTTP proxies if this starts Serve (8000)."
    ),
    ray_proxy: str = typer.Option(
        "EveryNode", "--ray-proxy", help="EveryNode or HeadOnly: where Serve's HTTP proxies run."
    ),
    secrets_file: Path = typer.Option(
        None,
        "--secrets-file",
        help="Secrets of the new version (KEY=VALUE lines; wranglerpy extension, wrangler uses "
        "`secret put`). Default: those of the live version; .dev.vars is never deployed.",
    ),
    kv_backend: KVBackendOption = None,
    r2_backend: R2BackendOption = None,
) -> None:
    """Deploy workers to the local edge (started on demand) with zero failed requests."""
    from wranglerpy.cli.common import resolve_configs
    from wranglerpy.cli.local_state import find_config
    from wranglerpy.config.load import load_worker
    from wranglerpy.deploy.client import running_edge, start_edge
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.deploy.paths import EdgePaths
    from wranglerpy.deploy.publish import plan, publish
    from wranglerpy.errors import ConfigError, UsageError

    if all_workers:
        paths = resolve_configs(config)
    else:
        if config and len(config) > 1:
            raise ConfigError("Several -c configs need --all (deployed in dependency order).")
        found = find_config(config[0] if config else None)
        if found is None:
            raise ConfigError(
                f"No wrangler.json, wrangler.jsonc or wrangler.toml in {Path.cwd()}. "
                "Pass one with -c, or deploy every config here with --all."
            )
        paths = [found]
    workers = [load_worker(p, env) for p in paths]
    if target != "edge":  # the Ray target keeps its own versions and history
        from wranglerpy.ray import cli as ray_cli

        ray_cli.check_target(target)
        state_dir = ray_cli.ray_state_dir(state_dir)
    edge_paths = EdgePaths.resolve(state_dir)
    edge = running_edge(edge_paths) if target == "edge" else None
    # A stopped edge brings back everything in its deployment log when it starts again.
    deployed = set(DeploymentLog(edge_paths.deployments).workers())
    if edge is not None:
        deployed |= set(edge.status().workers)
    ordered = plan(workers, deployed)
    if secrets_file is not None and len(ordered) > 1:
        raise UsageError("--secrets-file holds one worker's secrets: deploy that worker alone.")
    for worker in ordered:  # every worker must be uploadable before the first one is switched
        refuse_unuploadable(worker)
    if target != "edge":
        if dry_run or secrets_file is not None:
            raise UsageError("--dry-run and --secrets-file are not supported with --target ray.")
        on_ray = ray_cli.make_target(
            state_dir, ray_address, ray_config, ordered, ray_http_port, ray_proxy
        )
        from wranglerpy.state.backends import activate

        backends = activate(kv_backend, r2_backend)  # carried to every replica in its spec
        if backends.kv or backends.r2:
            typer.echo(f"State backends: {backends.describe()}")
        ray_cli.deploy_workers(ordered, on_ray, typer.echo, message)
        return
    if len(ordered) > 1:
        typer.echo(
            "Deploy order (service-binding targets first): " + " → ".join(w.name for w in ordered)
        )
    if edge is not None and (kv_backend or r2_backend):
        typer.echo(
            "▲ --kv-backend/--r2-backend apply when the edge starts: the running edge keeps its "
            "state backends. Run `wranglerpy edge stop` first to change them."
        )
    if not dry_run and edge is None:
        from wranglerpy.state.backends import activate

        backends = activate(kv_backend, r2_backend)  # the edge daemon and workers inherit them
        if backends.kv or backends.r2:
            typer.echo(f"State backends: {backends.describe()}")
        edge, _ = start_edge(edge_paths, port=edge_port)
        typer.echo(f"Started the local edge on {edge.url} (pid {edge.pid})")
    hinted: set[str] = set()  # workers sharing a D1 database get its migration advice once
    for worker in ordered:
        publish(
            worker,
            edge_paths,
            edge,
            typer.echo,
            message=message,
            dry_run=dry_run,
            secrets_file=secrets_file,
            hinted_databases=hinted,
        )
