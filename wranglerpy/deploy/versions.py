"""Versions: immutable, content-addressed snapshots of a worker (code, config, vars).

A version's content hash is the sha256 of its files and of its config with paths made
relative. Its id is a UUID, as wrangler shows them, derived from that hash (``uuid5`` in
wranglerpy's namespace): deploying the same code and config twice yields the same version,
with no index to look up and no race between two deploys. The hash stays in ``meta.json``
(``content_hash``). Versions made before UUIDs (64-hex ids) keep their ids and still load.

The snapshot keeps a copy of the worker's folder; the config stored beside it
(``config.json``, see ``config_json``) points into that copy, so later edits to the project
never change what a deployment runs. Older versions hold ``config.pickle``; they still load.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wranglerpy.config.schema import Assets, Build, WorkerConfig
from wranglerpy.deploy import config_json
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.errors import DeployError

# Folders that are never part of a worker's code; other dot-folders are skipped too, except
# these (static assets may serve /.well-known/...).
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "venv", "env"})
KEPT_DOT_DIRS = frozenset({".well-known"})
MAX_FILES = 5000
MAX_BYTES = 200 * 1024 * 1024
_PLACEHOLDER = Path("/__snapshot__")
# The namespace of version ids (uuid5 of the content hash); fixed forever, or ids change.
VERSION_NAMESPACE = uuid.UUID("8f0f6c1e-3d0b-5b8e-9a57-7a1f2b9c4d10")
CONFIG_FILE = "config.json"
LEGACY_CONFIG_FILE = "config.pickle"  # versions made before config.json


@dataclass(frozen=True)
class Version:
    id: str
    worker: str
    created_on: str
    meta: dict[str, Any]
    directory: Path

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def content_hash(self) -> str:
        """The sha256 of the content; the id itself for versions made before UUID ids."""
        return str(self.meta.get("content_hash") or self.id)

    @property
    def tag(self) -> str:
        return str(self.meta.get("tag") or "")

    @property
    def message(self) -> str:
        return str(self.meta.get("message") or "")

    def config(self) -> WorkerConfig:
        path = self.directory / CONFIG_FILE
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise DeployError(f"{path} is unreadable ({exc}).") from None
            return config_json.decode(data, path)
        # A version from before config.json: its own snapshot, written by this edge.
        config = pickle.loads((self.directory / LEGACY_CONFIG_FILE).read_bytes())
        assert isinstance(config, WorkerConfig)
        return config

    @property
    def python_path(self) -> tuple[str, ...]:
        return tuple(self.meta.get("python_path") or ())


def source_root(config: WorkerConfig) -> Path:
    """The folder snapshotted: the config's folder, widened to hold ``main`` and assets."""
    folders = [config.root.resolve()]
    if config.main is not None:
        folders.append(config.main.resolve().parent)
    if config.assets is not None:
        folders.append(config.assets.directory.resolve())
    return Path(os.path.commonpath([str(f) for f in folders]))


def is_local_secrets_file(name: str) -> bool:
    """``.dev.vars``, ``.dev.vars.<env>``, ``.env``, ``.env.<suffix>``: for ``dev`` only, so
    never part of a version (see ``deploy.secrets``)."""
    return name in (".dev.vars", ".env") or name.startswith((".dev.vars.", ".env."))


def _files(root: Path, skip: Path | None = None) -> list[Path]:
    """The files of the worker under ``root``; ``skip`` (the edge's own folder, should it
    live inside the project) is left out, so versions never hold versions."""
    found: list[Path] = []
    total = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if (d in KEPT_DOT_DIRS or not d.startswith("."))
            and d not in SKIPPED_DIRS
            and Path(folder, d) != skip
        )
        for name in sorted(names):
            path = Path(folder) / name
            if not path.is_file() or name.endswith((".pyc", ".sock")):
                continue
            if is_local_secrets_file(name):
                continue
            found.append(path)
            total += path.stat().st_size
            if len(found) > MAX_FILES or total > MAX_BYTES:
                raise DeployError(
                    f"{root} holds more than {MAX_FILES} files or {MAX_BYTES >> 20} MB: "
                    "too much to snapshot as one worker. Move data out of the worker's folder."
                )
    return found


def _move(path: Path | None, old: Path, new: Path) -> Path | None:
    if path is None:
        return None
    try:
        return new / path.resolve().relative_to(old)
    except ValueError:
        return path  # outside the snapshot (e.g. a shared folder): left as it is


def rebase(config: WorkerConfig, old: Path, new: Path) -> WorkerConfig:
    """``config`` with every path under ``old`` moved under ``new``."""
    build = Build(
        command=config.build.command,
        cwd=_move(config.build.cwd, old, new),
        watch_dir=tuple(p for p in (_move(w, old, new) for w in config.build.watch_dir) if p),
    )
    assets: Assets | None = None
    if config.assets is not None:
        moved = _move(config.assets.directory, old, new)
        assert moved is not None
        assets = replace(config.assets, directory=moved)
    config_path = _move(config.config_path, old, new)
    assert config_path is not None
    return replace(
        config,
        config_path=config_path,
        main=_move(config.main, old, new),
        build=build,
        assets=assets,
    )


def version_id_for(content_hash: str) -> str:
    return str(uuid.uuid5(VERSION_NAMESPACE, content_hash))


def snapshot(
    config: WorkerConfig,
    paths: EdgePaths,
    python_path: tuple[str, ...] = (),
    *,
    message: str = "",
    tag: str = "",
) -> Version:
    """Copy the worker into ``versions/<id>/`` (once) and return that version. ``message``
    and ``tag`` (``versions upload``) annotate it; given again for the same content, the
    latest annotation wins."""
    if config.main is None:
        raise DeployError(
            f'Worker "{config.name}" has no `main` entry point in {config.config_path}.'
        )
    if not config.main.is_file():
        raise DeployError(f'Worker "{config.name}": main file {config.main} does not exist.')
    root = source_root(config)
    files = _files(root, paths.root)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(repr(rebase(config, root, _PLACEHOLDER)).encode())
    digest.update(repr(python_path).encode())
    content_hash = digest.hexdigest()
    paths.ensure()
    if (paths.versions / content_hash / "meta.json").is_file():
        return _annotate(load_version(paths, content_hash), message, tag)  # pre-UUID version
    version_id = version_id_for(content_hash)
    target = paths.versions / version_id
    if not (target / "meta.json").is_file():
        staging = Path(tempfile.mkdtemp(dir=paths.versions, prefix=".new-"))
        try:
            for path in files:
                dest = staging / "src" / path.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
            frozen = rebase(config, root, target / "src")
            stored = staging / CONFIG_FILE
            stored.touch(0o600)  # it holds the version's secrets
            stored.write_text(json.dumps(config_json.encode(frozen), indent=2))
            meta = _meta(version_id, frozen, root, len(files), python_path)
            meta |= {"content_hash": content_hash, "message": message, "tag": tag}
            (staging / "meta.json").write_text(json.dumps(meta, indent=2))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _annotate(load_version(paths, version_id), message, tag)


def _annotate(version: Version, message: str, tag: str) -> Version:
    """Record a new message/tag for ``version`` (they are not part of its content)."""
    changes = {k: v for k, v in (("message", message), ("tag", tag)) if v}
    if not changes or all(version.meta.get(k) == v for k, v in changes.items()):
        return version
    meta = version.meta | changes
    tmp = version.directory / ".meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, version.directory / "meta.json")
    return replace(version, meta=meta)


def _meta(
    version_id: str, config: WorkerConfig, source: Path, files: int, python_path: tuple[str, ...]
) -> dict[str, Any]:
    placement = config.placement
    return {
        "id": version_id,
        "worker": config.name,
        "env": config.env_name,
        "created_on": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": str(source),
        "files": files,
        "workers_dev": config.workers_dev,
        "routes": [r.pattern for r in config.routes],
        "services": [
            {"binding": s.binding, "service": s.service, "environment": s.environment}
            for s in config.services
        ],
        "placement": placement.mode or placement.hint or placement.region if placement else None,
        "python_path": list(python_path),
    }


def load_version(paths: EdgePaths, version_id: str) -> Version:
    meta_path = paths.versions / version_id / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        raise DeployError(f"Version {version_id} is not in {paths.versions}.") from None
    return Version(meta["id"], meta["worker"], meta["created_on"], meta, meta_path.parent)


def list_versions(paths: EdgePaths, worker: str | None = None) -> list[Version]:
    """Every stored version (of ``worker``), oldest first."""
    if not paths.versions.is_dir():
        return []
    found = []
    for folder in paths.versions.iterdir():
        if folder.name.startswith(".") or not (folder / "meta.json").is_file():
            continue
        version = load_version(paths, folder.name)
        if worker is None or version.worker == worker:
            found.append(version)
    return sorted(found, key=lambda v: (v.created_on, v.id))


def find_version(paths: EdgePaths, worker: str, prefix: str) -> Version:
    """The version of ``worker`` whose id starts with ``prefix`` (unique)."""
    matches = [v for v in list_versions(paths, worker) if v.id.startswith(prefix.lower())]
    if not matches:
        raise DeployError(
            f'No version of "{worker}" has an id starting with {prefix!r}. '
            f"See `wranglerpy versions list {worker}`."
        )
    if len(matches) > 1:
        raise DeployError(f"Version id prefix {prefix!r} is ambiguous; give more characters.")
    return matches[0]
