"""Crash a running ``wranglerpy dev`` the hard way: SIGKILL it and every process under it."""

import contextlib
import os
import signal
from pathlib import Path

from wranglerpy.testing import DevServer


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (worker children may sit in their own process groups)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_dev(dev: DevServer) -> None:
    """SIGKILL dev and all its workers at once: nothing gets to clean up."""
    assert dev.process is not None
    for pid in [dev.process.pid, *descendants(dev.process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    dev.process.wait()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
