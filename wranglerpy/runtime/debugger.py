"""``wranglerpy dev --inspector-port N``: each worker process listens for a debugger.

Worker k (in the order ``dev`` prints them) listens with debugpy (the Debug Adapter Protocol,
what VS Code's Python debugger speaks) on ``127.0.0.1:N+k``. A reload starts the new process
while the old one still drains and holds the port, so the new process listens as soon as the
port is free again (the old process's debug adapter exits with it); the reload never waits on
the debugger. Needs the ``debug`` extra (``debugpy``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from wranglerpy.runtime.events import EventSink

HOST = "127.0.0.1"  # a debugger runs any code in the worker: never on another interface
POLL_SECONDS = 0.05
EXTRA = "pip install 'wranglerpy[debug]'"


def assign(names: Sequence[str], first: int) -> dict[str, int]:
    """Worker k on ``first + k``."""
    return {name: first + k for k, name in enumerate(names)}


def banner_line(worker: str, port: int | None, several: bool) -> list[str]:
    if port is None:
        return []
    who = f" ({worker})" if several else ""
    return [f"⎔ Debugger (debugpy) listening on {HOST}:{port}{who}"]


def available() -> bool:
    try:
        import debugpy  # noqa: F401
    except ImportError:
        return False
    return True


def port_free(port: int, host: str = HOST) -> bool:
    """Whether debugpy's adapter could bind ``port`` now (it also sets SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def start(port: int | None, worker: str, sink: EventSink) -> threading.Thread | None:
    """Listen on ``port`` (now when it is free, else from a thread once it is); no-op for None.

    Called once, as the worker process starts, before the worker's code is imported.
    """
    if port is None:
        return None

    def say(level: str, message: str) -> None:
        sink.emit({"type": "log", "worker": worker, "level": level, "message": message})

    # pydevd would warn on every start that Python's frozen modules may hide breakpoints: they
    # are the standard library's, never the worker's code.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        import debugpy
    except ImportError:
        say("warn", f"▲ --inspector-port needs debugpy: {EXTRA}")
        return None
    # Worker code that starts processes is not debugged through them (no patched subprocess).
    debugpy.configure(subProcess=False)
    if port_free(port) and _listen(port, say):
        return None
    say("info", f"⎔ Debugger port {port} is busy (the previous process?): listening once free")
    thread = threading.Thread(
        target=_listen_when_free, args=(port, say), name="debugger-listen", daemon=True
    )
    thread.start()
    return thread


def _listen(port: int, say: Callable[[str, str], None]) -> bool:
    import debugpy

    try:
        debugpy.listen((HOST, port))
    except RuntimeError as exc:  # the port was taken between the probe and the adapter's bind
        if "already been called" in str(exc):
            return True
        say("debug", f"debugpy could not listen on {port} yet: {exc}")
        return False
    return True


def _listen_when_free(port: int, say: Callable[[str, str], None]) -> None:
    while True:
        while not port_free(port):
            time.sleep(POLL_SECONDS)
        if _listen(port, say):
            say("info", f"⎔ Debugger (debugpy) listening on {HOST}:{port}")
            return


def ports_in_use(ports: Mapping[str, int], taken: Mapping[str, int]) -> list[str]:
    """Workers whose debugger port is some worker's HTTP port (a usage error)."""
    http = set(taken.values())
    return [name for name, port in ports.items() if port in http]
