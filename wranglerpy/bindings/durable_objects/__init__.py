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
    "route_through",
    "start_hosts",
]

# One host per worker in this process (a worker process hosts one worker).
_HOSTS: dict[str, ObjectHost] = {}
# Set by a target whose objects live elsewhere (the Ray target: one actor per object).
_ROUTER: Any = None


class NotHosting:
    """The ownership of a process that hosts no object: every call goes to the router."""

    socket_path: str | None = None
    serves_wire = False

    def may_host(self, namespace: str) -> None:
        pass

    def owns(self, namespace: str) -> bool:
        return False

    def release(self) -> None:
        pass


def route_through(router: Any) -> None:
    """Send every Durable Object call of the workers built from now on in this process to
    ``router`` (a routing ``Locator`` and ``Courier`` in one: it names the owner of every
    object and carries calls there). None: back to the registry's routing."""
    global _ROUTER  # noqa: PLW0603 - one routing per process, like _HOSTS
    _ROUTER = router


def host_for(worker: str) -> ObjectHost | None:
    return _HOSTS.get(worker)


class RemoteNamespaceUnavailable:
    """A binding to a class of another worker (``script_name``) where no registry is given
    (in-process tests): there is no way to reach the other worker."""

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
    *,
    registry_dir: Path | None = None,
    mode: str = "dev",
) -> dict[str, Any]:
    """The namespaces of ``worker``'s bindings. With ``registry_dir``, calls reach each object
    in the one process that owns its namespace (remote.py); without, everything is local."""
    if not worker.durable_objects and not worker.migrations:
        return {}
    routing: dict[str, Any] = {}
    if _ROUTER is not None:
        routing = {"ownership": NotHosting(), "locator": _ROUTER, "courier": _ROUTER}
    elif registry_dir is not None:
        from wranglerpy.bindings.durable_objects.remote import (
            Ownership,
            RegistryLocator,
            WireCourier,
        )

        ownership = Ownership(registry_dir, mode)
        routing = {
            "ownership": ownership,
            "locator": RegistryLocator(ownership),
            "courier": WireCourier(),
        }
    host = _HOSTS.get(worker.name)
    if host is None:
        classes = class_storage(worker.migrations)
        host = ObjectHost(worker.name, persist_dir, classes, log=log, emit=emit, **routing)
        host.limits = worker.limits  # each event is an invocation with the worker's [limits]
        apply_migrations(persist_dir, worker.name, worker.migrations, host.metadata)
        _HOSTS[worker.name] = host
    env: dict[str, Any] = {}
    for binding in worker.durable_objects:
        target = binding.script_name
        if target is not None and target not in (worker.name, worker.base_name):
            if not routing:
                env[binding.name] = RemoteNamespaceUnavailable(
                    binding.name, binding.class_name, target
                )
                continue
            # A class of another worker: this process never hosts it, it calls its owner.
            remote_host = ObjectHost(target, persist_dir, {}, log=log, **routing)
            env[binding.name] = DurableObjectNamespace(
                binding.name, binding.class_name, remote_host
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
