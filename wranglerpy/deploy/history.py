"""Deployments: which version each worker runs, and every switch before it.

``deployments.json`` maps a worker name to its deployments, oldest first; the last one is
live. Only the edge daemon writes it (after a switch succeeded); anyone may read it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from wranglerpy.errors import DeployError


@dataclass(frozen=True)
class Deployment:
    id: str
    worker: str
    version_id: str
    created_on: str
    message: str = ""
    author: str = "local"
    source: str = "deploy"  # "deploy" or "rollback"

    @staticmethod
    def new(worker: str, version_id: str, message: str = "", source: str = "deploy") -> Deployment:
        return Deployment(
            id=str(uuid.uuid4()),
            worker=worker,
            version_id=version_id,
            created_on=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            message=message,
            source=source,
        )


class DeploymentLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, list[dict[str, str]]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise DeployError(f"{self.path} is unreadable ({exc}).") from None
        return data if isinstance(data, dict) else {}

    def workers(self) -> list[str]:
        return sorted(name for name, items in self._read().items() if items)

    def history(self, worker: str) -> list[Deployment]:
        return [Deployment(**item) for item in self._read().get(worker, [])]

    def current(self, worker: str) -> Deployment | None:
        items = self.history(worker)
        return items[-1] if items else None

    def record(self, deployment: Deployment) -> None:
        data = self._read()
        data.setdefault(deployment.worker, []).append(asdict(deployment))
        self._write(data)

    def remove(self, worker: str) -> bool:
        """Forget ``worker`` (``wranglerpy delete``); whether it was there."""
        data = self._read()
        if data.pop(worker, None) is None:
            return False
        self._write(data)
        return True

    def _write(self, data: dict[str, list[dict[str, str]]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".deployments-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, self.path)
