"""Builds a worker's bindings from its config: the one place that knows every binding type."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wranglerpy.config.schema import WorkerConfig

# binding kind -> module under wranglerpy (each exposes create(config, persist_dir)).
BINDING_MODULES: dict[str, str] = {
    "kv_namespaces": "wranglerpy.bindings.kv",
    "d1_databases": "wranglerpy.bindings.d1",
    "r2_buckets": "wranglerpy.bindings.r2",
    "analytics_engine_datasets": "wranglerpy.bindings.analytics_engine",
    "ai": "wranglerpy.ai.binding",
}


def _factory(kind: str) -> Callable[[Any, Path], Any]:
    # Imported on demand so a worker without AI never loads onnxruntime.
    module = importlib.import_module(BINDING_MODULES[kind])
    create: Callable[[Any, Path], Any] = module.create
    return create


def describe(worker: WorkerConfig) -> list[tuple[str, str, str]]:
    """``(binding, kind, target)`` for every storage/AI binding, for the start-up banner."""
    rows: list[tuple[str, str, str]] = []
    rows += [(b.binding, "KV Namespace", b.id) for b in worker.kv_namespaces]
    rows += [
        (b.binding, "D1 Database", b.database_name or b.storage_id) for b in worker.d1_databases
    ]
    rows += [(b.binding, "R2 Bucket", b.bucket_name) for b in worker.r2_buckets]
    rows += [(b.binding, "Analytics Engine", b.dataset) for b in worker.analytics_engine_datasets]
    if worker.ai:
        rows.append((worker.ai.binding, "AI", "local onnxruntime"))
    return rows


def build_storage_bindings(worker: WorkerConfig, persist_dir: Path) -> dict[str, Any]:
    """Create the KV, D1, R2, Analytics Engine and AI bindings of ``worker``."""
    env: dict[str, Any] = {}
    for kind in ("kv_namespaces", "d1_databases", "r2_buckets", "analytics_engine_datasets"):
        configs = getattr(worker, kind)
        if configs:
            create = _factory(kind)
            for config in configs:
                env[config.binding] = create(config, persist_dir)
    if worker.ai:
        env[worker.ai.binding] = _factory("ai")(worker.ai, persist_dir)
    return env
