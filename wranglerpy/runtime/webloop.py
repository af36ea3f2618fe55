"""``pyodide.webloop.WebLoop``: the worker's event loop, which lets ``run_until_complete`` (and
so helpers such as Django's ``async_to_sync``) and ``asyncio.run`` be called from inside a
running handler, as Pyodide's WebLoop does with JSPI.

Inside a handler (where ``run_sync`` works) ``run_until_complete(aw)`` waits for ``aw`` on the
running loop; elsewhere it behaves as asyncio's. ``asyncio.run(main)`` inside a handler does
the same from Pyodide 0.28 on (pyodide ``src/py/pyodide/webloop.py`` ``_run``, added in 0.28.0;
workerd turns ``enableRunUntilComplete`` on, ``src/pyodide/internal/pool/emscriptenSetup.ts:181``),
which Python Workers get from compatibility date 2025-09-29 or the ``python_workers_20250116``
flag (workerd ``compatibility-date.capnp:655-659``, ``build/python_metadata.bzl``). Before,
with Pyodide 0.26, it is CPython's ``RuntimeError``. ``asyncio.Runner`` is not patched by
Pyodide: ``Runner.run`` inside a handler is ``RuntimeError`` on every version.

``time.sleep(t)`` inside a handler is ``run_sync(asyncio.sleep(t))`` from Pyodide 0.28 on
(pyodide 0.28.2 ``src/py/pyodide/webloop.py:646-668``: ``_sleep``, installed by
``_initialize_event_loop``): the handler waits while the worker's other calls go on. Pyodide
0.26 has no such patch (its ``webloop.py`` never names ``sleep``), so before 2025-09-29 it blocks.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from wranglerpy.runtime.ffi import can_run_sync, run_sync

_original_run_until_complete = asyncio.BaseEventLoop.run_until_complete
_original_asyncio_run = asyncio.run
_original_sleep = time.sleep
_asyncio_run_waits = True  # set per worker from its compatibility date (loader.import_worker)
_patched_classes: set[type] = set()


def _run_until_complete(self: asyncio.AbstractEventLoop, future: Any) -> Any:
    # In Pyodide every loop is a WebLoop on the one JS event loop: inside a handler any loop's
    # run_until_complete waits there (webloop.py:384-402), e.g. asyncio.Runner's cleanup.
    if can_run_sync():
        return run_sync(future)
    return _original_run_until_complete(self, future)  # type: ignore[arg-type]


class WebLoop(asyncio.SelectorEventLoop):
    """The loop class worker code sees; re-entrant ``run_until_complete`` inside handlers."""

    def run_until_complete(self, future: Any) -> Any:
        return _run_until_complete(self, future)


@functools.wraps(_original_asyncio_run)
def _asyncio_run(main: Any, *, debug: bool | None = None, **kwargs: Any) -> Any:
    # Pyodide's _run: only without a loop_factory, and only where the call can suspend.
    if _asyncio_run_waits and kwargs.get("loop_factory") is None and can_run_sync():
        return run_sync(main)
    return _original_asyncio_run(main, debug=debug, **kwargs)


@functools.wraps(_original_sleep)
def _sleep(seconds: float) -> None:
    # Pyodide's _sleep: a wait on the loop where the call can suspend, else a real sleep.
    if _asyncio_run_waits and can_run_sync():
        run_sync(asyncio.sleep(seconds))
    else:
        _original_sleep(seconds)


def set_asyncio_run_waits(enabled: bool) -> None:
    """Whether ``asyncio.run`` and ``time.sleep`` inside a handler wait on the worker's loop
    (Pyodide >= 0.28)."""
    global _asyncio_run_waits
    _asyncio_run_waits = enabled


def install() -> None:
    """Make ``run_until_complete`` re-entrant inside handlers for every loop of this process,
    and ``asyncio.run`` Pyodide's. Only a call that asyncio would refuse ("This event loop is
    already running", "cannot be called from a running event loop") changes."""
    asyncio.BaseEventLoop.run_until_complete = _run_until_complete  # type: ignore[method-assign]
    asyncio.run = _asyncio_run
    time.sleep = _sleep  # type: ignore[assignment]
    try:
        loop_class = type(asyncio.get_running_loop())
    except RuntimeError:
        return
    if loop_class in _patched_classes or issubclass(loop_class, asyncio.BaseEventLoop):
        return
    # uvloop's Loop is not a BaseEventLoop; its Python subclass takes the same wrapper.
    original = loop_class.run_until_complete

    def run_until_complete(self: Any, future: Any) -> Any:
        if can_run_sync():
            return run_sync(future)
        return original(self, future)

    try:
        loop_class.run_until_complete = run_until_complete  # type: ignore[method-assign]
    except TypeError:  # a C type without a dict: nothing to patch
        pass
    _patched_classes.add(loop_class)
