"""Durable Objects: namespaces, ids, stubs, the object host, storage, alarms, hibernation.

``build_bindings(worker, persist_dir)`` gives the ``env`` entries of a worker's
``durable_objects.bindings``; ``attach(worker, env, module)`` binds the classes once the
worker's code is imported. See README.md in this folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from wranglerpy.bindings.durable_objects.host import ObjectHost
from wranglerpy.bindings.durable_objects.ids import DurableObjectId
from wranglerpy.bindings.durable_objects.migrations import apply_migrations
from wranglerpy.bindings.durable_objects.namespace import DurableObjectNamespace, DurableObjectStub
from wranglerpy.config.durable_objects import class_storage
from wranglerpy.config.schema import WorkerConfig

__all__ = [
    "DurableObjectId",
    "DurableObjectNamespace",
    "DurableObjectStub",
    "ObjectHost",
    "attach",
    "build_bindings",
    "host_for",
    "start_hosts",
]

# One host per worker in this process (a worker process hosts one worker).
_HOSTS: dict[str, ObjectHost] = {}


def host_for(worker: str) -> ObjectHost | None:
    return _HOSTS.get(worker)


class RemoteNamespaceUnavailable:
    """A binding to a class of another worker (``script_name``): reaching it needs the worker
    host's routing of Durable Object calls between processes."""

    def __init__(self, binding: str, class_name: str, script: str) -> None:
        self._binding = binding
        self._class = class_name
        self._script = script

    def __getattr__(self, name: str) -> Any:
        raise TypeError(
            f'env.{self._binding}: Durable Object class "{self._class}" of worker '
            f'"{self._script}" lives in another worker; cross-worker Durable Object bindings '
            "are not available in this version of wranglerpy."
        )


def build_bindings(
    worker: WorkerConfig,
    persist_dir: Path,
    log: Callable[[str, str], None] | None = None,
    emit: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    if not worker.durable_objects and not worker.migrations:
        return {}
    classes = class_storage(worker.migrations)
    host = _HOSTS.get(worker.name)
    if host is None:
        host = ObjectHost(worker.name, persist_dir, classes, log=log, emit=emit)
        apply_migrations(persist_dir, worker.name, worker.migrations, host.metadata)
        _HOSTS[worker.name] = host
    env: dict[str, Any] = {}
    for binding in worker.durable_objects:
        if (
            binding.script_name is not None
            and binding.script_name != worker.base_name
            and (binding.script_name != worker.name)
        ):
            env[binding.name] = RemoteNamespaceUnavailable(
                binding.name, binding.class_name, binding.script_name
            )
        else:
            env[binding.name] = DurableObjectNamespace(binding.name, binding.class_name, host)
    return env


def attach(worker: str, env: Any, module: ModuleType | None) -> list[str]:
    """Give the host its env and the worker's classes; return the bound classes not found."""
    host = _HOSTS.get(worker)
    if host is None:
        return []
    host.env = env
    if module is not None:
        host.bind_module(module)
    return host.missing_classes()


def start_hosts() -> None:
    """Start alarms and eviction of every host of this process (on the running loop)."""
    for host in _HOSTS.values():
        host.start()
