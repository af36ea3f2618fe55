"""Live events for the dashboard, read from the supervisor's tail server.

``dev`` and the edge already serve every ``request``/``log``/``system`` event over a unix
socket (``logs/tail_server.py``) for ``wranglerpy tail``; the services process connects to it
like one more tail client, keeps the latest events in a bounded ring and hands them to each
open event stream. When the socket is not there (yet, or any more) it retries.

It starts following at the dashboard's first request, not with the services process: each
tail client costs the supervisor a JSON encoding and a socket write per event (about 0.3 ms of
CPU per request on the bench machine, ``bench/dashboard_overhead.py``), which a session whose
dashboard is never opened should not pay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from pathlib import Path
from typing import Any

KEPT = 1000  # events kept for a page that opens (or reconnects) later
PER_CLIENT = 1000  # events queued per stream before that stream drops some
RETRY_S = 0.25
FIRST_CONNECT_S = 5.0  # how long the first page waits for the tail server before going on
MAX_TEXT = 4000  # characters of one log message or exception kept
MAX_LOGS = 100  # log lines kept per request
LINE_LIMIT = 1 << 24

Event = dict[str, Any]


def _clip(text: Any) -> str:
    value = str(text)
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"… ({len(value)} chars)"


def _clip_message(message: Any) -> Any:
    """A request log's message: the console call's arguments (a list), each part cut."""
    if isinstance(message, list):
        return [_clip(part) if isinstance(part, str) else part for part in message[:20]]
    return _clip(message)


def trim(event: Event) -> Event:
    """The event as the dashboard shows it: bounded logs, texts and exceptions."""
    out = dict(event)
    if "message" in out:
        out["message"] = _clip(out["message"])
    logs = out.get("logs")
    if isinstance(logs, list):
        out["logs"] = [
            {**log, "message": _clip_message(log.get("message", ""))}
            if isinstance(log, dict)
            else log
            for log in logs[:MAX_LOGS]
        ]
        if len(logs) > MAX_LOGS:
            out["logs_dropped"] = len(logs) - MAX_LOGS
    exceptions = out.get("exceptions")
    if isinstance(exceptions, list):
        out["exceptions"] = [
            {k: _clip(v) if isinstance(v, str) else v for k, v in exc.items()}
            if isinstance(exc, dict)
            else exc
            for exc in exceptions[:10]
        ]
    return out


class EventFeed:
    """The ring of recent events and the fan-out to open streams; ``seq`` numbers every event."""

    def __init__(self, socket_path: Path | None, kept: int = KEPT) -> None:
        self.socket_path = socket_path
        self.events: deque[Event] = deque(maxlen=kept)
        self.seq = 0
        self.connected = False
        self._connected = asyncio.Event()
        self._waited = False
        self._streams: set[asyncio.Queue[Event | None]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.socket_path is not None and self._task is None:
            self._task = asyncio.ensure_future(self._follow(self.socket_path))

    async def ready(self) -> None:
        """Follow the tail server (from now on) and wait, the first time only and briefly,
        until connected, so that a request sent right after the page opens is seen."""
        if self.socket_path is None:
            return
        self.start()
        if not self._waited:
            self._waited = True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._connected.wait(), FIRST_CONNECT_S)

    def publish(self, event: Event) -> None:
        self.seq += 1
        event = {**trim(event), "seq": self.seq}
        self.events.append(event)
        for queue in list(self._streams):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def since(self, after: int, limit: int) -> list[Event]:
        """Kept events with ``seq > after``, oldest first, at most ``limit`` (the newest)."""
        found = [e for e in self.events if e["seq"] > after]
        return found[-limit:] if limit > 0 else []

    def open_stream(self, after: int) -> tuple[list[Event], asyncio.Queue[Event | None]]:
        """The kept events after ``after`` and a queue of the ones still to come (no gap and
        no repeat between them: both are taken without yielding to the loop)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue(PER_CLIENT)
        self._streams.add(queue)
        return self.since(after, KEPT), queue

    def close_stream(self, queue: asyncio.Queue[Event | None]) -> None:
        self._streams.discard(queue)

    def end_streams(self) -> None:
        """Tell every open stream to finish (the services process is stopping)."""
        for queue in list(self._streams):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def stop(self) -> None:
        self.end_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None

    async def _follow(self, path: Path) -> None:
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(path), limit=LINE_LIMIT)
            except OSError:
                await asyncio.sleep(RETRY_S)
                continue
            try:
                writer.write(b'{"workers": []}\n')
                await writer.drain()
                await reader.readline()  # {"type": "hello"}
                self.connected = True
                self._connected.set()
                while line := await reader.readline():
                    with contextlib.suppress(ValueError):
                        event = json.loads(line)
                        if isinstance(event, dict):
                            self.publish(event)
            except (ConnectionError, ValueError, asyncio.LimitOverrunError):
                pass
            finally:
                self.connected = False
                writer.close()
            await asyncio.sleep(RETRY_S)
