"""``wranglerpy deploy``: build, snapshot, and switch the edge to the new version.

Planning is pure (``plan``): the workers in dependency order, and a DeployError before
anything changes when a service binding points at a worker that is neither deployed nor
part of this deploy.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.config.plan import dependency_order, service_target
from wranglerpy.config.schema import ServiceBinding, WorkerConfig
from wranglerpy.deploy.client import EdgeStatus
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.secrets import with_deployed_secrets
from wranglerpy.deploy.versions import Version, snapshot
from wranglerpy.errors import DeployError
from wranglerpy.logs.hub import LogHub

Echo = Callable[[str], None]


def binding_target_deployed(binding: ServiceBinding, deployed: set[str]) -> bool:
    """As a binding resolves at run time: ``<service>-<environment>`` first, then ``service``."""
    if binding.environment and f"{binding.service}-{binding.environment}" in deployed:
        return True
    return binding.service in deployed


def plan(workers: Sequence[WorkerConfig], deployed: set[str]) -> list[WorkerConfig]:
    """``workers`` with targets first; every binding must reach a deployed or planned worker."""
    ordered = dependency_order(workers)
    for worker in ordered:
        for binding in worker.services:
            target = service_target(binding, workers)
            if target is not None or binding_target_deployed(binding, deployed):
                continue
            if binding.service in (worker.name, worker.base_name):
                continue  # a worker that binds itself
            wanted = binding.service + (
                f" (environment {binding.environment})" if binding.environment else ""
            )
            raise DeployError(
                f'Service binding {binding.binding} of worker "{worker.name}" points at '
                f'"{wanted}", which is not deployed on the local edge. Nothing was deployed. '
                f"Deploy {binding.service} first (wranglerpy deploy -c <its config>), or deploy "
                "every worker of the folder in dependency order with `wranglerpy deploy --all`."
            )
    return ordered


@dataclass(frozen=True)
class Published:
    config: WorkerConfig
    version: Version
    deployed: bool


def describe_placement(config: WorkerConfig) -> str | None:
    placement = config.placement
    if placement is None:
        return None
    if placement.mode:
        return placement.mode
    if placement.hint:
        return f"hint {placement.hint}"
    return placement.region or placement.host or placement.hostname


def publish(
    config: WorkerConfig,
    paths: EdgePaths,
    edge: EdgeStatus | None,
    echo: Echo,
    *,
    message: str = "",
    dry_run: bool = False,
    secrets_file: Path | None = None,
    hinted_databases: set[str] | None = None,
) -> Published:
    """Build and snapshot ``config``; unless ``dry_run``, switch the edge to it.
    ``hinted_databases``: D1 storage ids whose migration advice this deploy printed already."""
    from wranglerpy.supervisor.build import run_build
    from wranglerpy.supervisor.python_deps import ensure_dependencies

    hub = LogHub()
    hub.subscribe(lambda event: echo(str(event.get("message", ""))))
    ok = asyncio.run(run_build(config, hub))
    if not ok:
        raise DeployError(f'The build of "{config.name}" failed; nothing was deployed.')
    if not config.build.command:
        echo("✨ Built successfully")
    deps = asyncio.run(ensure_dependencies(config.root.resolve(), hub, config.name))
    config, secrets_note = with_deployed_secrets(config, paths, secrets_file)
    if secrets_note:
        echo(secrets_note)
    if deps is not None:
        deps = keep_dependencies(deps, paths)
    version = snapshot(config, paths, (str(deps),) if deps else ())
    echo(f"Snapshot of {config.name}: {version.meta.get('files')} files, version {version.id}")
    if dry_run:
        echo(f"--dry-run: {config.name} was validated and built; the edge was not changed.")
        return Published(config, version, False)
    assert edge is not None
    answer = edge.deploy(version.id, message, "deploy")
    env = config.env_name or "production"
    echo(f"✔ Successfully published {config.name} ({env}) in {answer.seconds:.2f} s")
    for line in where_lines(config, edge):
        echo(f"  {line}")
    echo(f"Current Version ID: {version.id}")
    persist = edge.raw.get("persist_dir")
    if persist:
        from wranglerpy.deploy.hints import migration_hints

        for hint in migration_hints(config, Path(persist), hinted_databases):
            echo(hint)
    return Published(config, version, True)


def keep_dependencies(modules: Path, paths: EdgePaths) -> Path:
    """The edge's own copy of a project's installed packages (``python_modules/<hash>``), so a
    deployed version keeps working when the project's ``.wranglerpy`` folder is deleted."""
    kept = paths.root / "python_modules" / modules.name
    if (kept / ".complete").exists():
        return kept
    kept.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=kept.parent, prefix=".new-"))
    try:
        shutil.copytree(modules, staging / "m", symlinks=True)
        shutil.rmtree(kept, ignore_errors=True)
        os.replace(staging / "m", kept)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return kept


def where_lines(config: WorkerConfig, edge: EdgeStatus) -> list[str]:
    lines = []
    if config.workers_dev:
        lines.append(f"http://{config.name.lower()}.localhost:{edge.port}")
    for route in config.routes:
        lines.append(f"{route.pattern} (route; Host header on {edge.url})")
    if not lines:
        lines.append("(internal: reachable only through service bindings)")
    placement = describe_placement(config)
    if placement:
        lines.append(f"placement: {placement}")
    return lines
