"""The input gate of one object: ``ctx.blockConcurrencyWhile``.

Storage calls never suspend (they are synchronous SQLite calls behind ``async`` methods), so an
object awaiting its own storage can never be interleaved with another event: that half of
Cloudflare's input gate comes for free. What remains is ``blockConcurrencyWhile(callback)``:
no new event enters the object until ``callback`` has finished, even across real I/O.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any


class InputGate:
    def __init__(self) -> None:
        self._blocked = 0
        self._open: asyncio.Event | None = None

    @property
    def blocked(self) -> bool:
        return self._blocked > 0

    async def enter(self) -> None:
        """Wait (only) while a ``blockConcurrencyWhile`` callback runs."""
        while self._blocked:
            assert self._open is not None
            await self._open.wait()

    def block_while(self, callback: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run ``callback`` with the gate closed; the gate closes before this returns, so a
        constructor may call it without awaiting."""
        if self._open is None:
            self._open = asyncio.Event()
        self._blocked += 1
        self._open.clear()

        async def run() -> Any:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    result = await result
                return result
            finally:
                self._blocked -= 1
                if not self._blocked and self._open is not None:
                    self._open.set()

        return asyncio.ensure_future(run())
