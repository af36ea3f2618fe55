"""Which secrets a deployed version carries.

``.dev.vars`` (and the ``.env`` family) are for ``wranglerpy dev`` only: as with ``wrangler
deploy``, they are never deployed, and the snapshot leaves those files out. A version's
secrets come from ``deploy --secrets-file FILE`` (dotenv syntax); without it, a new version
keeps the secrets of the version the worker runs now, as Cloudflare keeps a worker's secrets
across deployments.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from wranglerpy.config.dotenv import parse_dotenv_file
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.deploy.history import DeploymentLog
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.versions import load_version
from wranglerpy.errors import ConfigError, DeployError

Secrets = tuple[tuple[str, str], ...]


def live_secrets(paths: EdgePaths, worker: str) -> Secrets:
    """The secrets of the version ``worker`` runs on the edge now (none if not deployed)."""
    current = DeploymentLog(paths.deployments).current(worker)
    if current is None:
        return ()
    try:
        return load_version(paths, current.version_id).config().secrets
    except (DeployError, OSError):
        return ()


def with_deployed_secrets(
    config: WorkerConfig, paths: EdgePaths, secrets_file: Path | None
) -> tuple[WorkerConfig, str]:
    """``config`` with the secrets its version should carry, and a line saying where from."""
    local = [key for key, _ in config.secrets]
    if secrets_file is not None:
        if not secrets_file.is_file():
            raise ConfigError(f"--secrets-file {secrets_file} does not exist.")
        secrets = tuple(sorted(parse_dotenv_file(secrets_file).items()))
        names = ", ".join(k for k, _ in secrets) or "none"
        return replace(config, secrets=secrets), f"Secrets from {secrets_file}: {names}"
    secrets = live_secrets(paths, config.name)
    if secrets:
        names = ", ".join(k for k, _ in secrets)
        note = f"Secrets kept from the live version: {names}"
    elif local:
        note = (
            f"▲ .dev.vars is for `wranglerpy dev` only and was not deployed ({', '.join(local)}). "
            "Give the edge its secrets with `wranglerpy deploy --secrets-file FILE`."
        )
    else:
        note = ""
    return replace(config, secrets=secrets), note
