"""``WorkerEntrypoint``, the execution context (``ctx.waitUntil``), and how handlers are called.

Handlers are called as Pyodide's ``relaxed_call`` does: with only the arguments their
signature takes. Cloudflare calls ``fetch``, ``scheduled`` and the other event handlers this
way, so ``async def fetch(self)`` (no request) and ``on_fetch(request)`` (no env, ctx) work.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Any


class ExecutionContext:
    """What ``self.ctx`` is: work that may outlive the response goes through ``waitUntil``."""

    def __init__(self, on_error: Any = None) -> None:
        self._pending: list[asyncio.Task[Any]] = []
        self._on_error = on_error
        self.props: dict[str, Any] = {}
        from wranglerpy.runtime import current

        current.request_ctx.set(self)  # `from workers import wait_until` reaches this request

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:  # noqa: N802 - Workers' name
        """Keep ``awaitable`` running after the response is sent; its failure is logged."""
        task = asyncio.ensure_future(awaitable)
        self._pending.append(task)
        task.add_done_callback(self._done)

    def passThroughOnException(self) -> None:  # noqa: N802 - Workers' name
        """Accepted for compatibility: there is no origin to fall back to locally."""

    def _done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and self._on_error is not None:
            self._on_error(error)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for every ``waitUntil`` task (bounded, as Cloudflare bounds them after a response)."""
        pending = [t for t in self._pending if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)


class WorkerEntrypoint:
    """Base class of a worker: ``class Default(WorkerEntrypoint)`` with ``async def fetch``.

    ``self.env`` holds vars, secrets and bindings; ``self.ctx`` the execution context. Other
    ``async`` methods are callable over a service binding as RPC.
    """

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class DurableObject:
    """Base class of a Durable Object: ``self.ctx`` is its state (``ctx.storage``, ``ctx.id``,
    ``ctx.acceptWebSocket``...), ``self.env`` the worker's env. Other public methods are
    callable through a stub as RPC."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class WorkflowEntrypoint(WorkerEntrypoint):
    """Base class of a workflow: `async def run(self, event, step)`, run by the worker that
    defines it (see wranglerpy.bindings.workflows)."""


# (function, bound?) -> (positional room or None for any, keyword names or None for any)
_Shape = tuple[int | None, frozenset[str] | None]
_shapes: dict[tuple[Any, bool], _Shape | None] = {}


def _shape(func: Any) -> _Shape | None:
    # Handlers are called per request: read each function's signature once, not per call.
    bound = inspect.ismethod(func)
    key = (func.__func__ if bound else func, bound)
    try:
        return _shapes[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable: no cache
        key = None  # type: ignore[assignment]
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: pass everything
        shape: _Shape | None = None
    else:
        room = None
        if not any(p.kind == p.VAR_POSITIONAL for p in params):
            room = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        named = None
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            named = frozenset(p.name for p in params if p.kind in kinds)
        shape = (room, named)
    if key is not None and len(_shapes) < 4096:
        _shapes[key] = shape
    return shape


def relaxed_call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func``, dropping positional and keyword arguments its signature cannot take."""
    shape = _shape(func)
    if shape is None:
        return func(*args, **kwargs)
    room, named = shape
    if room is not None:
        args = args[:room]
    if named is not None and kwargs:
        kwargs = {k: v for k, v in kwargs.items() if k in named}
    return func(*args, **kwargs)
