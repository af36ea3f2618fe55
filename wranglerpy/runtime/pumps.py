"""The two pumps of a relay (a WebSocket between a client and a worker): one per direction.

When one direction ends (its side closed or went away), the other gets a short grace to
finish what it was carrying (typically the close frame going the other way), then is
cancelled. The edge router (``runtime/websocket_wire.py``) and the Ray ingress
(``ray/websocket.py``) both end their relays this way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

GRACE_SECONDS = 5.0


async def run_pumps(*pumps: Coroutine[Any, Any, None], grace: float = GRACE_SECONDS) -> None:
    """Run ``pumps`` until the first ends, wait up to ``grace`` seconds for the others, then
    cancel what is left and wait for it. A pump's exception ends it like a return (the relay's
    caller closes the connection either way); cancelling the relay cancels every pump."""
    tasks = [asyncio.ensure_future(pump) for pump in pumps]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.wait(tasks, timeout=grace)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
