"""``wranglerpy secret put|delete|bulk``: a secret change is a new version, deployed at once.

As on Cloudflare, secrets belong to a version: changing one snapshots the live version with
the new set (same code and config, so only the secrets differ) and switches the edge to it,
with the usual zero-failed-request switch. ``rollback`` to an earlier version brings its
secrets back with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from wranglerpy.deploy.client import running_edge, start_edge
from wranglerpy.deploy.history import DeploymentLog
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.versions import Version, load_version, snapshot
from wranglerpy.errors import DeployError, UsageError

Secrets = dict[str, str]
# Secret names follow the rules for binding names: a JS identifier.
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
MAX_SECRET_BYTES = 5 * 1024  # Cloudflare's limit on one secret's value


def check_secret(name: str, value: str) -> None:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f'"{name}" is not a valid secret name: use letters, digits, _ and $, not starting '
            "with a digit."
        )
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise UsageError(
            f'The value of secret "{name}" is {len(value.encode())} bytes; the limit is '
            f"{MAX_SECRET_BYTES} bytes."
        )


def live_version(paths: EdgePaths, worker: str) -> Version:
    current = DeploymentLog(paths.deployments).current(worker)
    if current is None:
        raise DeployError(
            f'"{worker}" is not deployed on the local edge ({paths.root}): deploy it first, then '
            "set its secrets."
        )
    return load_version(paths, current.version_id)


def secret_names(paths: EdgePaths, worker: str) -> list[str]:
    return sorted(k for k, _ in live_version(paths, worker).config().secrets)


def change_secrets(
    paths: EdgePaths, worker: str, change: Callable[[Secrets], Secrets], message: str
) -> tuple[Version, float]:
    """Snapshot the live version with ``change(secrets)`` and deploy it; returns the new
    version and the switch's seconds. The same secrets again give the same version (no-op)."""
    current = DeploymentLog(paths.deployments).current(worker)
    if current is not None and len(current.split) > 1:
        # As wrangler refuses it (workers-sdk packages/wrangler/src/secret/index.ts): the new
        # version would silently end the gradual deployment.
        raise DeployError(
            f'Secret edit failed: "{worker}" is in a gradual deployment '
            f"({', '.join(f'{v} at {p:g}%' for v, p in current.split)}). Deploy one version "
            "at 100% first (`wranglerpy versions deploy VERSION_ID@100%`), then change secrets."
        )
    live = live_version(paths, worker)
    config = live.config()
    secrets = change(dict(config.secrets))
    new = snapshot(replace(config, secrets=tuple(sorted(secrets.items()))), paths, live.python_path)
    if new.id == live.id:
        return new, 0.0
    edge = running_edge(paths) or start_edge(paths)[0]
    return new, edge.deploy(new.id, message, "secret").seconds
