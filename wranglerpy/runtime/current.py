"""What the running worker process is: its ``env`` and the request's execution context.

``from workers import env`` and ``import_from_javascript("cloudflare:workers").env`` read the
process's env (set when the env is built, before the user's module is imported, so it works at
import time as on Cloudflare); ``wait_until`` reaches the current request's context.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

_env: Any = None
_persist_dir: Path | None = None
_overrides: list[dict[str, Any]] = []
request_ctx: contextvars.ContextVar[Any] = contextvars.ContextVar("wranglerpy_ctx", default=None)


def set_persist_dir(path: Path) -> None:
    """Where this worker's local state lives (the Cache API keeps its entries there)."""
    global _persist_dir
    _persist_dir = path


def persist_dir() -> Path:
    return _persist_dir or Path(".wranglerpy") / "state"


def set_process_env(env: Any) -> None:
    global _env
    _env = env


class _EnvView:
    """The process env with ``patch_env`` overrides on top; attribute and item access."""

    def __getattr__(self, name: str) -> Any:
        for layer in reversed(_overrides):
            if name in layer:
                return layer[name]
        if _env is None:
            raise AttributeError(f"env has no binding or variable named {name!r}")
        return getattr(_env, name)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return any(name in layer for layer in _overrides) or (_env is not None and name in _env)

    def __repr__(self) -> str:
        return f"env({_env!r})"


def process_env() -> Any:
    return _EnvView()


@contextlib.contextmanager
def patched_env(values: dict[str, Any]) -> Iterator[None]:
    _overrides.append(values)
    try:
        yield
    finally:
        _overrides.remove(values)


def wait_until(awaitable: Any) -> None:
    """``waitUntil`` of the request being handled."""
    ctx = request_ctx.get()
    if ctx is None:
        raise RuntimeError("waitUntil() can only be called while a request is being handled.")
    ctx.waitUntil(awaitable)


def cloudflare_workers_module() -> Any:
    from wranglerpy.runtime import entrypoint

    return SimpleNamespace(
        env=process_env(),
        waitUntil=wait_until,
        WorkerEntrypoint=entrypoint.WorkerEntrypoint,
        DurableObject=entrypoint.DurableObject,
        WorkflowEntrypoint=entrypoint.WorkflowEntrypoint,
    )
