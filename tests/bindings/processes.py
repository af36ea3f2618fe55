"""Several processes on one store: both halves of the start-together protocol in one place.

A script gets its store's path as ``sys.argv[1]``, opens the store and calls
``wait_for_go(path)``, which prints "ready" and blocks until ``<path>.go`` exists. Writers
print "started" once a few writes are in and "done" at the end. The test side holds every
process at "ready" and then releases them together, so they really race.
"""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

# Prepended to every script; underscored names so it cannot clash with the script's imports.
_PRELUDE = textwrap.dedent(
    """
    import time as _time
    from pathlib import Path as _Path

    def wait_for_go(path):
        print("ready", flush=True)
        # Start together with the other writers; a test that died before releasing them
        # leaves no writer behind.
        deadline = _time.monotonic() + 60
        while not _Path(str(path) + ".go").exists():
            if _time.monotonic() > deadline:
                raise SystemExit(f"never released: no {path}.go after 60 s")
            _time.sleep(0.002)
    """
)


def go_file(path: Path) -> Path:
    return Path(f"{path}.go")


def spawn(script: str, path: Path, *args: object) -> subprocess.Popen[str]:
    """Run ``script`` in a new interpreter with ``path`` and ``args`` as its arguments."""
    return subprocess.Popen(
        [sys.executable, "-c", _PRELUDE + script, str(path), *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
    )


def run_together(path: Path, procs: list[subprocess.Popen[str]]) -> list[str]:
    """Wait until every process is ready, release them together, and return each one's
    output once it has exited 0."""
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    go_file(path).touch()
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        outputs.append(out)
    return outputs


def kill_mid_write(script: str, path: Path, *args: object) -> None:
    """Run one writer, released at once, and SIGKILL it as soon as it says it has started."""
    go_file(path).touch()
    proc = spawn(script, path, *args)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    assert proc.stdout.readline().strip() == "started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def assert_intact(database: Path) -> None:
    """SQLite's own check of the file passes (a crash left no torn pages)."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
