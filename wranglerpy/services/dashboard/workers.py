"""The workers the dashboard shows: each with its bindings and, while it runs, its URL.

``dev`` knows its workers when it starts, so their bindings travel in the services spec
(:func:`binding_rows`, made in the parent from the configs). The edge's workers change with
every deploy, so the services process reads them from the edge's deployment log. URLs come from
the registry: the entries written by the process that started this one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.host.locations import Locations, pid_alive

BindingRow = tuple[str, str, str]  # (binding, kind, target), as the start-up banner shows them
WorkerSummary = tuple[str, tuple[BindingRow, ...]]  # (worker name, its bindings)


def binding_rows(config: WorkerConfig) -> tuple[BindingRow, ...]:
    """Service bindings, storage/AI bindings and variable names (never secret values)."""
    from wranglerpy.bindings.registry import describe

    rows: list[BindingRow] = []
    for service in config.services:
        target = service.service + (f"#{service.entrypoint}" if service.entrypoint else "")
        rows.append((service.binding, "Worker", target))
    rows += describe(config)
    rows += [(name, "Environment Variable", "") for name, _ in config.vars]
    rows += [(name, "Secret", "(hidden)") for name, _ in config.secrets]
    return tuple(rows)


def edge_workers(edge_root: Path) -> list[WorkerSummary]:
    """The workers deployed on the edge at ``edge_root``, with their current version's bindings."""
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.deploy.paths import EdgePaths
    from wranglerpy.deploy.versions import load_version
    from wranglerpy.errors import WranglerError

    paths = EdgePaths(edge_root)
    log = DeploymentLog(paths.deployments)
    out: list[WorkerSummary] = []
    try:
        names = log.workers()
    except WranglerError:
        return out
    for name in names:
        current = log.current(name)
        rows: tuple[BindingRow, ...] = ()
        if current is not None:
            try:
                rows = binding_rows(load_version(paths, current.version_id).config())
            except (WranglerError, OSError, ValueError):
                rows = ()
        out.append((name, rows))
    return out


def describe_workers(
    configured: tuple[WorkerSummary, ...],
    edge_root: str,
    registry: Locations | None = None,
    owner: int | None = None,
) -> list[dict[str, Any]]:
    """``[{name, mode, url, running, bindings: [{binding, kind, target}]}]`` for the dashboard.

    ``owner``: the pid whose registry entries are this session's (default: our parent, the
    ``dev`` or edge process that started the services).
    """
    registry = registry or Locations()
    owner = os.getppid() if owner is None else owner
    summaries = list(configured) if configured else []
    if edge_root:
        summaries += edge_workers(Path(edge_root))
    live = {e.name: e for e in registry.entries() if e.pid == owner and pid_alive(e.pid)}
    out = []
    for name, rows in summaries:
        entry = live.pop(name, None)
        out.append(_worker(name, rows, entry))
    out += [_worker(name, (), entry) for name, entry in sorted(live.items())]
    return out


def _worker(name: str, rows: tuple[BindingRow, ...], entry: Any) -> dict[str, Any]:
    return {
        "name": name,
        "mode": entry.mode if entry is not None else "",
        "url": entry.url if entry is not None else "",
        "running": entry is not None,
        "bindings": [{"binding": b, "kind": k, "target": t} for b, k, t in rows],
    }
