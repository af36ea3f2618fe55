"""Prints events: each line prefixed with its worker's name in its own colour (plain off a TTY)."""

from __future__ import annotations

import json
import sys
from http import HTTPStatus
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape

LEVEL_ORDER = {"debug": 0, "log": 1, "info": 1, "warn": 2, "error": 3, "none": 99}
WORKER_COLOURS = ["cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan"]
LEVEL_STYLES = {"debug": "dim", "warn": "yellow", "error": "red"}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class Printer:
    """The single writer to the terminal. ``log_format`` is ``pretty`` or ``json``."""

    def __init__(
        self,
        *,
        log_level: str = "log",
        log_format: str = "pretty",
        stream: TextIO | None = None,
        console: Console | None = None,
    ) -> None:
        self.threshold = LEVEL_ORDER.get(log_level, 1)
        self.log_format = log_format
        self.stream = stream or sys.stdout
        self.console = console or Console(file=self.stream, highlight=False, soft_wrap=True)
        self._colours: dict[str, str] = {}
        self._width = 0

    def add_worker(self, name: str) -> None:
        if name not in self._colours:
            self._colours[name] = WORKER_COLOURS[len(self._colours) % len(WORKER_COLOURS)]
            self._width = max(self._width, len(name))

    def _prefix(self, worker: str | None) -> str:
        if not worker:
            return ""
        colour = self._colours.get(worker) or "white"
        return f"[{colour}]{escape(worker.ljust(self._width))}[/] │ "

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
        prefix = self._prefix(event.get("worker"))
        if kind == "request":
            status = event.get("status", 0)
            style = "red" if status >= 500 else "yellow" if status >= 400 else "green"
            line = (
                f"{escape(event.get('method', ''))} {escape(event.get('path', ''))} "
                f"[{style}]{status} {_phrase(status)}[/] ({event.get('duration_ms', 0):.0f} ms)"
            )
            if event.get("outcome") == "canceled":
                line += " [yellow]canceled[/]"
            if event.get("caller"):
                line += f" [dim]← {escape(event['caller'])}[/]"
        elif kind == "load_error":
            line = f"[red]✘ {escape(event.get('detail') or event.get('message', ''))}[/]"
        else:
            message = str(event.get("message", ""))
            style = LEVEL_STYLES.get(level)
            line = f"[{style}]{escape(message)}[/]" if style else escape(message)
        if prefix and "\n" in line:
            line = line.replace("\n", "\n" + prefix)
        self.console.print(prefix + line)
