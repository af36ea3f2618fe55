"""Where the local edge keeps its state: one folder, laid out once here.

``~/.wranglerpy/edge/`` by default (``WRANGLERPY_EDGE_DIR`` or ``--state-dir`` override it)::

    versions/<uuid>/          an immutable snapshot: src/, config.json, meta.json
                              (before UUID ids: versions/<sha256>/ with config.pickle)
    deployments.json          the deployment history of every worker
    state/                    KV/D1/R2/AE data of deployed workers (unless --persist-to)
    python_modules/<hash>/    packages installed from a project's pyproject.toml
    edge.json                 the running daemon: pid, address, control and tail sockets
    edge.log                  the daemon's output
    edge.port                 the port it used last (reused by the next start)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.host.sockets import runtime_dir

EDGE_DIR_ENV = "WRANGLERPY_EDGE_DIR"


def default_edge_dir() -> Path:
    configured = os.environ.get(EDGE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".wranglerpy" / "edge"


@dataclass(frozen=True)
class EdgePaths:
    root: Path

    @staticmethod
    def resolve(state_dir: Path | None = None) -> EdgePaths:
        return EdgePaths((state_dir or default_edge_dir()).expanduser().resolve())

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    @property
    def deployments(self) -> Path:
        return self.root / "deployments.json"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def status(self) -> Path:
        return self.root / "edge.json"

    @property
    def last_port(self) -> Path:
        return self.root / "edge.port"

    @property
    def log(self) -> Path:
        return self.root / "edge.log"

    def socket(self, kind: str) -> Path:
        """A unix socket path for this edge (kept short: the state dir may be deep)."""
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:10]
        return runtime_dir() / f"edge-{digest}-{kind}.sock"

    def ensure(self) -> None:
        self.versions.mkdir(parents=True, exist_ok=True)
