"""Events a worker process reports to its supervisor: one JSON object per line.

Kinds: ``warm`` (runtime imported, waiting for a worker), ``ready`` (serving), ``load_error``
(the user's code failed to import; the worker answers 500 until the next good save), ``log``
(a print or logging record), ``request`` (one finished request, shaped for ``tail``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Protocol


class EventSink(Protocol):
    def emit(self, event: dict[str, Any]) -> None: ...


class SocketEventSink:
    """Writes events as JSON lines to the supervisor's control socket (thread-safe)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("ts", time.time())
        data = (json.dumps(event, default=str, separators=(",", ":")) + "\n").encode()
        with self._lock:
            view = memoryview(data)
            while view:
                try:
                    written = os.write(self._fd, view)
                except BlockingIOError:
                    time.sleep(0.001)
                    continue
                except OSError:
                    return  # the supervisor is gone; nothing left to tell
                view = view[written:]


class ListEventSink:
    """Keeps events in memory (tests and in-process use)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("ts", time.time())
        self.events.append(event)
