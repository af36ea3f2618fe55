"""What the supervisor tells a worker process to become (sent with the ``load`` message)."""

from __future__ import annotations

import base64
import pickle
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.bindings.version_metadata import VersionInfo
from wranglerpy.config.schema import WorkerConfig


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs, sent by the supervisor with the ``load`` message."""

    config: WorkerConfig
    persist_dir: Path
    registry_dir: Path
    token: str
    mode: str = "dev"
    expose_errors: bool = True
    log_level: str = "info"
    python_path: tuple[str, ...] = ()  # folders of the project's own installed dependencies
    drain_seconds: float = 5.0  # how long requests and binding calls in flight may finish on stop
    # The deployed version behind env.<version_metadata binding>; None in dev (a fresh one).
    version: VersionInfo | None = None

    def encode(self) -> str:
        return base64.b64encode(pickle.dumps(self)).decode()

    @staticmethod
    def decode(text: str) -> WorkerSpec:
        spec = pickle.loads(base64.b64decode(text))
        assert isinstance(spec, WorkerSpec)
        return spec
