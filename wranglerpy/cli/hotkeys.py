"""wrangler's dev hotkeys on an interactive terminal: ``b`` opens a browser, ``c`` clears the
console, ``x`` (or ``q``, or Ctrl-C) exits.

As wrangler does (workers-sdk packages/wrangler/src/dev/hotkeys.ts, cli-hotkeys.ts and
utils/onKeyPress.ts), the keys are read one at a time with the terminal's line editing and
echo off, and the keys are printed in a box once ``dev`` is ready. Nothing happens when stdin
or stdout is not a terminal (CI, a pipe, a test runner). The terminal's mode is put back when
``dev`` exits, however it exits (``finally`` and ``atexit``).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
import termios
import threading
import webbrowser
from collections.abc import Callable
from typing import Any, TextIO

CLEAR = "\x1b[H\x1b[2J\x1b[3J"  # cursor home, clear the screen and its scrollback
CTRL_C = "\x03"
KEYS = (("b", "open a browser"), ("c", "clear console"), ("x", "to exit"))


def box(columns: int | None = None) -> str:
    """The hotkeys as wrangler prints them: one line in a rounded box (one per key when the
    terminal is too narrow)."""
    items = [f"[{key}] {label}" for key, label in KEYS]
    lines = [" ".join(items)]
    if columns is not None and len(lines[0]) + 6 > columns:
        lines = items
    width = max(len(line) for line in lines)
    body = "\n".join(f"│  {line.ljust(width)}  │" for line in lines)
    return f"╭──{'─' * width}──╮\n{body}\n╰──{'─' * width}──╯"


def interactive(stdin: TextIO, stdout: TextIO) -> bool:
    """Both ends are a terminal and ``dev`` is its foreground job (``wranglerpy dev &`` is not:
    touching the terminal's mode from the background would stop the process, SIGTTOU)."""
    try:
        if not (stdin.isatty() and stdout.isatty()):
            return False
        fd = stdin.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:  # not our controlling terminal: no job control, no SIGTTOU
        return True


class Hotkeys:
    """Reads keys from ``stdin`` on the event loop while ``dev`` runs."""

    def __init__(
        self,
        url: Callable[[], str | None],
        stop: Callable[[], None],
        *,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        open_browser: Callable[[str], Any] = webbrowser.open,
    ) -> None:
        self._url = url
        self._stop = stop
        self._stdin = stdin
        self._stdout = stdout
        self._open = open_browser
        self._saved: list[Any] | None = None
        self._fd = -1

    def start(self) -> bool:
        """Take the keys (and print them) when both ends are a terminal; else do nothing."""
        if not interactive(self._stdin, self._stdout):
            return False
        self._fd = self._stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        mode = termios.tcgetattr(self._fd)
        # As libuv's raw mode: no echo, no line editing, Ctrl-C arrives as a key; output
        # processing stays on, so log lines still end with a carriage return.
        mode[0] &= ~(termios.BRKINT | termios.ICRNL | termios.INPCK | termios.ISTRIP | termios.IXON)
        mode[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        atexit.register(self.restore)
        termios.tcsetattr(self._fd, termios.TCSANOW, mode)
        asyncio.get_running_loop().add_reader(self._fd, self._on_input)
        self._print(box(self._columns()))
        return True

    def restore(self) -> None:
        """Put the terminal back as it was; idempotent."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        try:
            asyncio.get_running_loop().remove_reader(self._fd)
        except RuntimeError:  # no loop any more (atexit)
            pass
        try:
            termios.tcsetattr(self._fd, termios.TCSANOW, saved)
        except termios.error:
            pass
        atexit.unregister(self.restore)

    def _columns(self) -> int | None:
        try:
            return os.get_terminal_size(self._stdout.fileno()).columns
        except (OSError, ValueError):
            return None

    def _print(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

    def _on_input(self) -> None:
        try:
            data = os.read(self._fd, 64).decode(errors="replace")
        except OSError:
            data = ""
        if not data:  # the terminal went away
            self.restore()
            return
        for char in data:
            self.press(char)

    def _browse(self, url: str) -> None:
        try:
            self._open(url)
        except Exception as exc:  # noqa: BLE001 - no browser here: say so, keep running
            self._print(f"✘ Could not open a browser for {url}: {exc}")

    def press(self, char: str) -> None:
        key = char.lower()  # Caps Lock on: still the key
        if key == "b":
            url = self._url()
            if url is not None:
                # On a thread: a $BROWSER command may run until the browser closes.
                threading.Thread(target=self._browse, args=(url,), daemon=True).start()
        elif key == "c":
            self._stdout.write(CLEAR)
            self._print(box(self._columns()))
        elif key in ("x", "q") or char == CTRL_C:
            self._stop()
