"""Builds a worker's bindings from its config: the one place that knows every binding type."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wranglerpy.bindings.version_metadata import VersionInfo, version_metadata
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import BindingError, WranglerError

# binding kind -> module under wranglerpy (each exposes create(config, persist_dir)).
BINDING_MODULES: dict[str, str] = {
    "kv_namespaces": "wranglerpy.bindings.kv",
    "d1_databases": "wranglerpy.bindings.d1",
    "r2_buckets": "wranglerpy.bindings.r2",
    "analytics_engine_datasets": "wranglerpy.bindings.analytics_engine",
    "ai": "wranglerpy.ai.binding",
    "queue_producers": "wranglerpy.bindings.queues",
    "workflows": "wranglerpy.bindings.workflows",
    "vectorize": "wranglerpy.bindings.vectorize",
    "ratelimits": "wranglerpy.bindings.ratelimit",
    "hyperdrive": "wranglerpy.bindings.hyperdrive",
    "send_email": "wranglerpy.bindings.send_email",
}


# Built like the storage bindings, after them (each exposes create(config, persist_dir)).
_MORE_KINDS = ("vectorize", "ratelimits", "hyperdrive", "send_email")

KIND_NAMES = {
    "kv_namespaces": "KV Namespace",
    "d1_databases": "D1 Database",
    "r2_buckets": "R2 Bucket",
    "analytics_engine_datasets": "Analytics Engine",
    "ai": "AI",
    "queue_producers": "Queue",
    "workflows": "Workflow",
    "vectorize": "Vectorize Index",
    "ratelimits": "Rate Limit",
    "hyperdrive": "Hyperdrive",
    "send_email": "Send Email",
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
    rows += [
        (
            b.name,
            "Durable Object",
            f"{b.class_name}@{b.script_name}" if b.script_name else b.class_name,
        )
        for b in worker.durable_objects
    ]
    rows += [(b.binding, "Queue", b.queue) for b in worker.queue_producers]
    rows += [(b.binding, "Workflow", b.name) for b in worker.workflows]
    rows += [(b.binding, "Vectorize Index", b.index_name) for b in worker.vectorize]
    rows += [
        (b.binding, "Rate Limit", f"{b.limit} per {b.period}s, namespace {b.namespace_id}")
        for b in worker.ratelimits
    ]
    rows += [(b.binding, "Hyperdrive", b.source or "no local database") for b in worker.hyperdrive]
    rows += [(b.binding, "Send Email", "recorded locally") for b in worker.send_email]
    if worker.version_metadata:
        rows.append((worker.version_metadata.binding, "Worker Version Metadata", "-"))
    rows += [(name, kind, "not emulated") for name, kind in worker.unsupported]
    return rows


class UnavailableBinding:
    """Stands in for a binding that could not be created: the worker still starts (its other
    routes keep working) and any use of this binding raises the reason."""

    def __init__(self, name: str, kind: str, reason: str) -> None:
        self._name = name
        self._kind = kind
        self._reason = reason

    def __getattr__(self, attribute: str) -> Any:
        raise BindingError(f"env.{self._name} ({self._kind}) is not available: {self._reason}")

    def __repr__(self) -> str:
        return f"<unavailable {self._kind} binding {self._name}: {self._reason}>"


def build_storage_bindings(
    worker: WorkerConfig,
    persist_dir: Path,
    on_error: Callable[[str, str], None] | None = None,
    version: VersionInfo | None = None,
) -> dict[str, Any]:
    """Create the KV, D1, R2, Analytics Engine and AI bindings of ``worker``.

    A binding that fails to start becomes an ``UnavailableBinding`` and ``on_error`` is told
    ``(binding name, reason)``.
    """
    env: dict[str, Any] = {}
    plan: list[tuple[str, Any]] = [
        (kind, config)
        for kind in (
            "kv_namespaces",
            "d1_databases",
            "r2_buckets",
            "analytics_engine_datasets",
            "queue_producers",
            "workflows",
        )
        for config in getattr(worker, kind)
    ]
    if worker.ai:
        plan.append(("ai", worker.ai))
    plan += [(kind, c) for kind in _MORE_KINDS for c in getattr(worker, kind)]
    for kind, config in plan:
        try:
            env[config.binding] = _factory(kind)(config, persist_dir)
        except Exception as exc:  # noqa: BLE001 - one broken binding must not take the worker down
            reason = str(exc) if isinstance(exc, WranglerError) else f"{type(exc).__name__}: {exc}"
            env[config.binding] = UnavailableBinding(config.binding, KIND_NAMES[kind], reason)
            if on_error is not None:
                on_error(config.binding, reason)
    if worker.version_metadata:
        env[worker.version_metadata.binding] = version_metadata(version)
    for name, kind in worker.unsupported:
        reason = f'wranglerpy does not emulate "{kind}" bindings locally yet'
        env[name] = UnavailableBinding(name, kind, reason)
    return env
