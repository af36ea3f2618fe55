"""Calling a worker's event handlers as workerd does (``src/pyodide/python-entrypoint-helper.ts``
and ``src/pyodide/internal/introspection.py``): which are relaxed calls, with what arguments."""

from __future__ import annotations

import inspect
from typing import Any

from wranglerpy.runtime.entrypoint import ExecutionContext, relaxed_call
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.ffi import drive
from wranglerpy.runtime.loader import LoadedWorker


async def call_handler(
    loaded: LoadedWorker, kind: str, event: Any, env: Env, ctx: ExecutionContext
) -> bool:
    """Run the ``scheduled``/``queue``/``test`` handler with ``(event, env, ctx)``, as workerd
    calls it: a method of ``Default`` gets exactly these arguments (only fetch and test are
    relaxed calls, python-entrypoint-helper.ts:448-471); a module-level ``on_<kind>`` (before
    2025-08-14) is a relaxed call (makeHandler, :350-378). False when there is no handler."""
    handler: Any = None
    relaxed = kind == "test"
    if loaded.default is not None and hasattr(loaded.default, kind):
        handler = getattr(loaded.default(ctx, env), kind)
    else:
        handler = {"scheduled": loaded.on_scheduled, "queue": loaded.on_queue}.get(kind)
        if kind == "test":
            handler = loaded.test
        relaxed = True
    if handler is None:
        return False
    result = relaxed_call(handler, event, env, ctx) if relaxed else handler(event, env, ctx)
    if inspect.isawaitable(result):
        await drive(result)
    return True
