"""A host on a temporary persist dir, with the test's classes bound to it."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.bindings.durable_objects.host import ObjectHost
from wranglerpy.bindings.durable_objects.namespace import DurableObjectNamespace

MakeHost = Callable[..., ObjectHost]


def namespace(host: ObjectHost, class_name: str) -> DurableObjectNamespace:
    return DurableObjectNamespace(class_name.upper(), class_name, host)


@pytest.fixture
async def make_host(tmp_path: Path) -> AsyncIterator[MakeHost]:
    hosts: list[ObjectHost] = []

    def make(
        *classes: type, sqlite: bool = True, persist: Path | None = None, **kw: Any
    ) -> ObjectHost:
        host = ObjectHost("w", persist or tmp_path, {c.__name__: sqlite for c in classes}, **kw)
        module = types.ModuleType("worker")
        for cls in classes:
            setattr(module, cls.__name__, cls)
        host.bind_module(module)
        host.env = {"NAME": "test"}
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        if host.metadata.conn is not None:
            try:
                await host.stop()
            except Exception:  # noqa: BLE001 - a test may have stopped it already
                pass
