"""``wranglerpy tail``'s connection: find the worker's runtime, stream its events, reconnect.

A worker runs under ``wranglerpy dev`` or on the local edge (or both); its registry entry
names the unix socket of the tail server of the process that supervises it. When that
process goes away (a restart), the client waits for the worker to be registered again and
reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from wranglerpy.errors import UsageError
from wranglerpy.host.locations import Locations, WorkerLocation

MODES = ("dev", "edge")
POLL_SECONDS = 0.25

Notice = Callable[[str], None]
OnEvent = Callable[[dict[str, Any]], None]


def choose_entry(
    registry: Locations, worker: str, mode: str | None, on_stopped_edge: bool = False
) -> WorkerLocation:
    """The registry entry to tail; a UsageError says why none (or which flag) when unclear.

    ``on_stopped_edge``: the worker is deployed on a local edge that is not running now.
    """
    if mode is not None and mode not in MODES:
        raise UsageError(f"--mode must be dev or edge, got {mode!r}")
    found = {m: e for m in MODES if (e := registry.get(worker, m)) is not None}
    stopped = (
        " It is deployed on the local edge, which is not running: `wranglerpy edge start`."
        if on_stopped_edge and mode != "dev"
        else ""
    )
    if mode is not None:
        entry = found.get(mode)
        if entry is None:
            where = "under `wranglerpy dev`" if mode == "dev" else "on the local edge"
            raise UsageError(
                f'Worker "{worker}" is not running {where}.{stopped}{_running(registry)}'
            )
        return entry
    if stopped and not found:
        raise UsageError(f'Worker "{worker}" is not running.{stopped}{_running(registry)}')
    if not found:
        raise UsageError(
            f'Worker "{worker}" is not running: start it with `wranglerpy dev` or deploy it with '
            f"`wranglerpy deploy`.{_running(registry)}"
        )
    if len(found) > 1:
        raise UsageError(
            f'Worker "{worker}" runs both under `wranglerpy dev` and on the local edge: '
            "pick one with --mode dev or --mode edge."
        )
    return next(iter(found.values()))


def _running(registry: Locations) -> str:
    names = sorted({f"{e.name} ({e.mode})" for e in registry.entries()})
    return f" Running now: {', '.join(names)}." if names else ""


async def follow(
    registry: Locations,
    worker: str,
    mode: str,
    on_event: OnEvent,
    notice: Notice,
    stop: asyncio.Event | None = None,
) -> None:
    """Deliver ``worker``'s request events until ``stop`` is set; survive runtime restarts."""
    stop = stop or asyncio.Event()
    connected_once = False
    while not stop.is_set():
        entry = registry.get(worker, mode)
        if entry is None or not entry.tail:
            await _sleep(stop, POLL_SECONDS)
            continue
        try:
            reader, writer = await asyncio.open_unix_connection(entry.tail, limit=1 << 24)
        except OSError:
            await _sleep(stop, POLL_SECONDS)
            continue
        try:
            writer.write(json.dumps({"workers": [worker]}).encode() + b"\n")
            await writer.drain()
            await reader.readline()  # {"type": "hello"}
            # The hello comes once the subscription is in place: from here no event is missed
            # (wrangler prints the same line when its tail socket opens).
            if connected_once:
                notice(f"⎔ Reconnected to {worker} ({mode}).")
            else:
                notice(f"Connected to {worker} ({mode}), waiting for logs...")
            connected_once = True
            await _pump(reader, on_event, stop)
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()
        if not stop.is_set():
            notice(f"⎔ Lost the connection to {worker} ({mode}); waiting for it to come back…")
            await _sleep(stop, POLL_SECONDS)


async def _pump(reader: asyncio.StreamReader, on_event: OnEvent, stop: asyncio.Event) -> None:
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while True:
            line_task = asyncio.ensure_future(reader.readline())
            await asyncio.wait({line_task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not line_task.done():
                line_task.cancel()
                return
            line = line_task.result()
            if not line:
                return
            event = json.loads(line)
            if event.get("type") == "request":
                on_event(event)
    finally:
        stopped.cancel()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
