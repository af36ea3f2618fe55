"""What the host tells a worker process to become (sent with the ``load`` message)."""

from __future__ import annotations

import base64
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from wranglerpy.bindings.version_metadata import VersionInfo
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.runtime.latency import LatencyModel
from wranglerpy.state.backends import StateBackends


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs, sent by the host with the ``load`` message."""

    config: WorkerConfig
    persist_dir: Path
    registry_dir: Path
    mode: str = "dev"  # which registry entries its service bindings reach: "dev" or "edge"
    expose_errors: bool = True
    log_level: str = "info"
    python_path: tuple[str, ...] = ()  # folders of the project's own installed dependencies
    drain_seconds: float = 5.0  # how long requests and calls in flight may finish on stop
    latency: LatencyModel | None = None  # ``--simulate-latency``: delays of storage/AI calls
    # The deployed version behind env.<version_metadata binding>; None in dev (a fresh one).
    version: VersionInfo | None = None
    # dev's public HTTP port: its limits and the Host names it answers besides the usual ones.
    http_limits: HttpLimits | None = None
    allowed_hosts: tuple[str, ...] = ()
    inspector_port: int | None = None  # dev --inspector-port: debugpy listens here
    # Where KV and R2 state lives (--kv-backend/--r2-backend); by default what the
    # WRANGLERPY_KV_BACKEND / WRANGLERPY_R2_BACKEND variables of the host name, else local.
    state: StateBackends = field(default_factory=StateBackends.from_env)

    def encode(self) -> str:
        return base64.b64encode(pickle.dumps(self)).decode()

    @staticmethod
    def decode(text: str) -> WorkerSpec:
        spec = pickle.loads(base64.b64decode(text))
        assert isinstance(spec, WorkerSpec)
        return spec
