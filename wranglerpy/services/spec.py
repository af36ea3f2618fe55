"""What the services process serves: the persist dir, the local S3 keys, the configured
buckets and the ``[ai.models]`` overrides, decided in the parent from the configs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.services.dashboard.workers import WorkerSummary, binding_rows

# The line the services process prints once it serves. Here, not in ``child``: the parent
# waits for it, and importing ``child`` (its server, the runtime) cost `dev` ~0.45 s at start.
READY = "wranglerpy-services ready"
# Documented in the README: what boto3/the AWS CLI/rclone use unless the config sets a pair.
# Here, not in ``s3.auth``: that module (and R2 behind it) is the services process's.
DEFAULT_ACCESS_KEY_ID = "wranglerpy-local"
DEFAULT_SECRET_ACCESS_KEY = "wranglerpy-local-secret"


@dataclass(frozen=True)
class ServicesSpec:
    persist_dir: Path
    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    buckets: tuple[str, ...] = ()
    ai_models: tuple[tuple[str, str], ...] = ()
    # For the dashboard: the supervisor's tail socket (live events), each worker's bindings
    # (dev; the edge's come from its deployments under ``edge_root``).
    tail_socket: str = ""
    workers: tuple[WorkerSummary, ...] = ()
    edge_root: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "persist_dir": str(self.persist_dir),
                "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key,
                "buckets": list(self.buckets),
                "ai_models": [list(pair) for pair in self.ai_models],
                "tail_socket": self.tail_socket,
                "workers": [[name, [list(row) for row in rows]] for name, rows in self.workers],
                "edge_root": self.edge_root,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ServicesSpec:
        raw = json.loads(text)
        return cls(
            persist_dir=Path(raw["persist_dir"]),
            access_key_id=raw["access_key_id"],
            secret_access_key=raw["secret_access_key"],
            buckets=tuple(raw["buckets"]),
            ai_models=tuple((a, b) for a, b in raw["ai_models"]),
            tail_socket=raw.get("tail_socket", ""),
            workers=tuple(
                (name, tuple((a, b, c) for a, b, c in rows))
                for name, rows in raw.get("workers", ())
            ),
            edge_root=raw.get("edge_root", ""),
        )


def spec_for(workers: Iterable[WorkerConfig], persist_dir: Path) -> ServicesSpec:
    """The first ``[dev] s3_access_key_id``/``s3_secret_access_key`` pair any config sets (else
    the documented default), every bucket the configs bind, every ``[ai.models]`` entry."""
    workers = list(workers)
    key_id, secret = DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY
    buckets: list[str] = []
    models: list[tuple[str, str]] = []
    chosen = False
    for worker in workers:
        dev = worker.dev
        if not chosen and dev.s3_access_key_id and dev.s3_secret_access_key:
            key_id, secret, chosen = dev.s3_access_key_id, dev.s3_secret_access_key, True
        buckets += [b.bucket_name for b in worker.r2_buckets if b.bucket_name not in buckets]
        if worker.ai is not None:
            models += [m for m in worker.ai.models if m not in models]
    summaries = tuple((w.name, binding_rows(w)) for w in workers)
    return ServicesSpec(
        persist_dir, key_id, secret, tuple(buckets), tuple(models), workers=summaries
    )
