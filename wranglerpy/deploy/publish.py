"""``wranglerpy deploy``: build, snapshot, and switch the edge to the new version.

Planning is pure (``plan``): the workers in dependency order, and a DeployError before
anything changes when a service binding points at a worker that is neither deployed nor
part of this deploy.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import tempfile
import time
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
    upload_only: bool = False,
    tag: str = "",
) -> Published:
    """Build and snapshot ``config``; unless ``dry_run`` or ``upload_only`` (``versions
    upload``: ``message`` and ``tag`` annotate the version), switch the edge to it.
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
    started = time.perf_counter()
    version = snapshot(
        config, paths, (str(deps),) if deps else (), message=message if upload_only else "", tag=tag
    )
    size, gzipped = upload_size(version)
    # wrangler's wording (workers-sdk packages/deploy-helpers/src/deploy/deploy.ts,
    # versions-upload.ts, helpers/bundle-reporter.ts; triggers/deploy.ts for "triggers").
    echo(f"Total Upload: {size / 1024:.2f} KiB / gzip: {gzipped / 1024:.2f} KiB")
    if dry_run:
        echo(f"--dry-run: {config.name} was validated and built; the edge was not changed.")
        return Published(config, version, False)
    echo(f"Uploaded {config.name} ({time.perf_counter() - started:.2f} sec)")
    if upload_only:
        echo(f"Worker Version ID: {version.id}")
        echo(
            f"To deploy this version to production traffic use the command "
            f"`wranglerpy versions deploy {version.id}@100% --name {config.name}`"
        )
        return Published(config, version, False)
    assert edge is not None
    answer = edge.deploy(version.id, message, "deploy")
    took = f"({answer.seconds:.2f} sec)"
    lines = where_lines(config, edge)
    if any(line.startswith(("http://", "schedule: ")) or "(route;" in line for line in lines):
        echo(f"Deployed {config.name} triggers {took}")
    else:
        echo(f"No targets deployed for {config.name} {took}")
    for line in lines:
        echo(f"  {line}")
    echo(f"Current Version ID: {version.id}")
    persist = edge.raw.get("persist_dir")
    if persist:
        from wranglerpy.deploy.migration_hints import migration_hints

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


def upload_size(version: Version) -> tuple[int, int]:
    """Bytes of the version's code (its static assets left out, as wrangler counts them) and
    their gzip size."""
    source = version.directory / "src"
    assets = version.config().assets
    skip = assets.directory if assets is not None else None
    size = gzipped = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or (skip is not None and path.is_relative_to(skip)):
            continue
        data = path.read_bytes()
        size += len(data)
        gzipped += len(gzip.compress(data, mtime=0))
    return size, gzipped


def where_lines(config: WorkerConfig, edge: EdgeStatus) -> list[str]:
    lines = []
    if config.workers_dev:
        lines.append(f"http://{config.name.lower()}.localhost:{edge.port}")
    for route in config.routes:
        lines.append(f"{route.pattern} (route; Host header on {edge.url})")
    for cron in config.triggers.crons:
        lines.append(f"schedule: {cron}")
    if not lines:
        lines.append("(internal: reachable only through service bindings)")
    placement = describe_placement(config)
    if placement:
        lines.append(f"placement: {placement}")
    return lines
