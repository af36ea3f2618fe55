"""Deployments: which version each worker runs, and every switch before it.

``deployments.json`` maps a worker name to its deployments, oldest first; the last one is
live. Only the edge daemon writes it (after a switch succeeded); anyone may read it.

A deployment serves one version at 100% or, after ``versions deploy A@90% B@10%``, two
versions with their shares (``versions``); ``version_id`` is then the one with the larger
share (the first one on a tie), so readers that know only one version still find the main one.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wranglerpy.errors import DeployError


@dataclass(frozen=True)
class Deployment:
    id: str
    worker: str
    version_id: str
    created_on: str
    message: str = ""
    author: str = "local"
    source: str = "deploy"  # "deploy", "rollback" or "versions deploy"
    # [(version id, percentage), ...] of a split deployment; empty: version_id at 100%.
    versions: tuple[tuple[str, float], ...] = ()

    @property
    def split(self) -> list[tuple[str, float]]:
        """Every version of this deployment with its percentage."""
        return [(str(v), float(p)) for v, p in self.versions] or [(self.version_id, 100.0)]

    @staticmethod
    def new(
        worker: str,
        version_id: str,
        message: str = "",
        source: str = "deploy",
        versions: tuple[tuple[str, float], ...] = (),
    ) -> Deployment:
        return Deployment(
            id=str(uuid.uuid4()),
            worker=worker,
            version_id=version_id,
            created_on=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            message=message,
            source=source,
            versions=versions if len(versions) > 1 else (),
        )


def rollback_target(history: list[Deployment]) -> str | None:
    """The version ``rollback`` without a VERSION_ID goes back to, as wrangler picks it: the
    newest deployment before the live one that served a version at 100% (so a rollback from a
    split ``A@90% B@10%`` after ``A@100%`` is A again; cloudflare/workers-sdk
    packages/wrangler/src/versions/rollback/index.ts, ``fetchDefaultRollbackVersionId``). None
    when there is none."""
    for deployment in reversed(history[:-1]):
        for version_id, percentage in deployment.split:
            if percentage == 100.0:
                return version_id
    return None


class DeploymentLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, list[dict[str, Any]]]:
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
        known = set(Deployment.__dataclass_fields__)
        return [
            Deployment(**{k: v for k, v in item.items() if k in known})
            for item in self._read().get(worker, [])
        ]

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

    def _write(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".deployments-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, self.path)
