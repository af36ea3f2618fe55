"""Prints events: each line prefixed with its worker's name in its own colour (plain off a TTY).

This is the one writer to the terminal. It formats lines itself (ANSI codes on a TTY) instead of
going through rich's renderer: under load it prints thousands of request lines a second, and
the supervisor must not spend more CPU on logging than the workers spend on serving.
"""

from __future__ import annotations

import json
import os
import sys
from http import HTTPStatus
from typing import Any, TextIO

LEVEL_ORDER = {"debug": 0, "log": 1, "info": 1, "warn": 2, "error": 3, "none": 99}
WORKER_COLOURS = ["36", "35", "32", "33", "34", "91", "96"]  # cyan, magenta, green, ...
LEVEL_COLOURS = {"debug": "2", "warn": "33", "error": "31"}
_PHRASES = {s.value: s.phrase for s in HTTPStatus}


def _use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Printer:
    """Prints hub events. ``log_format`` is ``pretty`` or ``json``."""

    def __init__(
        self,
        *,
        log_level: str = "log",
        log_format: str = "pretty",
        stream: TextIO | None = None,
        colour: bool | None = None,
    ) -> None:
        self.threshold = LEVEL_ORDER.get(log_level, 1)
        self.log_format = log_format
        self.stream = stream or sys.stdout
        self.colour = _use_colour(self.stream) if colour is None else colour
        self._colours: dict[str, str] = {}
        self._prefixes: dict[str | None, str] = {None: ""}
        self._width = 0

    def add_worker(self, name: str) -> None:
        if name not in self._colours:
            self._colours[name] = WORKER_COLOURS[len(self._colours) % len(WORKER_COLOURS)]
            self._width = max(self._width, len(name))
            self._prefixes = {None: ""}  # widths changed: rebuild lazily

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text

    def _prefix(self, worker: str | None) -> str:
        prefix = self._prefixes.get(worker)
        if prefix is None:
            name = worker.ljust(self._width) if worker else ""
            prefix = self._paint(self._colours.get(worker or "", ""), name) + " │ "
            self._prefixes[worker] = prefix
        return prefix

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in ("warm", "ready"):
            return
        level = event.get("level", "info")
        if kind == "request":
            level = "error" if event.get("status", 200) >= 500 else "info"
        if kind != "system" and LEVEL_ORDER.get(level, 1) < self.threshold:
            return
        if self.log_format == "json":
            public = {k: v for k, v in event.items() if k != "headers"}
            self.stream.write(json.dumps(public, default=str) + "\n")
            self.stream.flush()
            return
        line = self.format(event, level)
        prefix = self._prefix(event.get("worker"))
        if prefix and "\n" in line:
            line = line.replace("\n", "\n" + prefix)
        self.stream.write(prefix + line + "\n")
        self.stream.flush()

    def format(self, event: dict[str, Any], level: str) -> str:
        kind = event.get("type")
        if kind == "request" and event.get("queue_batch"):
            batch = event["queue_batch"]
            done = f"{batch.get('acked')}/{batch.get('batchSize')}"
            code = "32" if batch.get("acked") == batch.get("batchSize") else "33"
            return f"QUEUE {batch.get('queue')} {self._paint(code, done)} ({event.get('duration_ms', 0):.0f} ms)"
        if kind == "request":
            status = int(event.get("status", 0))
            code = "31" if status >= 500 else "33" if status >= 400 else "32"
            status_text = f"{status} {_PHRASES.get(status, '')}".rstrip()
            line = (
                f"{event.get('method', '')} {event.get('path', '')} "
                f"{self._paint(code, status_text)} ({event.get('duration_ms', 0):.0f} ms)"
            )
            if event.get("outcome") == "canceled":
                line += " " + self._paint("33", "canceled")
            if event.get("caller"):
                line += " " + self._paint("2", f"← {event['caller']}")
            return line
        if kind == "load_error":
            return self._paint("31", "✘ " + str(event.get("detail") or event.get("message", "")))
        return self._paint(LEVEL_COLOURS.get(level, ""), str(event.get("message", "")))
