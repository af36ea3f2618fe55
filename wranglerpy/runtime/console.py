"""Capture a worker's ``print()`` and ``logging`` output as log events with their level.

Each line also lands in the current request's log list (a context variable), which becomes
the ``logs`` array of that request's tail event, as ``console.log`` does in ``wrangler tail``.
"""

from __future__ import annotations

import contextvars
import io
import logging
import time
from typing import Any

from wranglerpy.runtime import tracing
from wranglerpy.runtime.events import EventSink

request_logs: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "request_logs", default=None
)

_LEVELS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warn",
    logging.ERROR: "error",
    logging.CRITICAL: "error",
}


MAX_MESSAGE = 64 * 1024  # one log line; longer ones are cut (and say so)


def record(sink: EventSink, worker: str, level: str, message: str) -> None:
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + f"… [{len(message) - MAX_MESSAGE} more characters]"
    entry = {"message": [message], "level": level, "timestamp": int(time.time() * 1000)}
    logs = request_logs.get()
    if logs is not None:
        logs.append(entry)
    sink.emit(
        {
            "type": "log",
            "worker": worker,
            "level": level,
            "message": message,
            "trace": tracing.current_trace_id(),
        }
    )


class LineWriter(io.TextIOBase):
    """A text stream that turns each complete line into a log event."""

    def __init__(self, sink: EventSink, worker: str, level: str) -> None:
        self._sink = sink
        self._worker = worker
        self._level = level
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            record(self._sink, self._worker, self._level, line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            line, self._pending = self._pending, ""
            record(self._sink, self._worker, self._level, line)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False


class EventLogHandler(logging.Handler):
    """A logging handler that forwards records as log events with their level."""

    def __init__(self, sink: EventSink, worker: str) -> None:
        super().__init__()
        self._sink = sink
        self._worker = worker
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, log_record: logging.LogRecord) -> None:
        try:
            message = self.format(log_record)
        except Exception:  # noqa: BLE001 - a bad format string must not break the worker
            message = str(log_record.msg)
        level = _LEVELS.get(log_record.levelno, "log")
        record(self._sink, self._worker, level, message)
