"""``pyodide.webloop.WebLoop``: the worker's event loop, which lets ``run_until_complete``
(and so ``asyncio.run``/``asyncio.Runner`` helpers such as Django's ``async_to_sync``) be
called from inside a running handler, as Pyodide's WebLoop does with JSPI.

Inside a handler (where ``run_sync`` works) ``run_until_complete(aw)`` waits for ``aw`` on the
running loop; elsewhere it behaves as asyncio's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from wranglerpy.runtime.ffi import run_sync

_original_run_until_complete = asyncio.BaseEventLoop.run_until_complete


def _run_until_complete(self: asyncio.BaseEventLoop, future: Any) -> Any:
    if self.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self:
            return run_sync(future)
    return _original_run_until_complete(self, future)


class WebLoop(asyncio.SelectorEventLoop):
    """The loop class worker code sees; re-entrant ``run_until_complete`` inside handlers."""

    def run_until_complete(self, future: Any) -> Any:
        return _run_until_complete(self, future)


def install() -> None:
    """Make ``run_until_complete`` re-entrant inside handlers for every loop of this process.
    Only a call that asyncio would refuse ("This event loop is already running") changes."""
    asyncio.BaseEventLoop.run_until_complete = _run_until_complete  # type: ignore[method-assign]
