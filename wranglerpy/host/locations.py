"""Where each running worker lives: a folder of small JSON files, one per worker and mode.

This is the registry (wrangler calls it the dev registry): every ``wranglerpy dev`` and the
local edge on this machine write a location when a worker starts serving and remove it when
it stops, so service bindings find their targets across separate processes, and ``tail``
finds their event streams. Locations of dead processes are ignored. A location names the
unix socket its frame calls go to (see ``wranglerpy.wire``).

A worker name has one live owner per mode: ``claim`` takes an exclusive ``flock`` beside the
entry for as long as the session runs, and refuses a second session. The kernel drops the
lock when its holder dies, so the entry of a session that crashed is taken over silently.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wranglerpy.errors import UsageError

if TYPE_CHECKING:
    from wranglerpy.config.schema import WorkerConfig

REGISTRY_ENV = "WRANGLERPY_REGISTRY_PATH"


def default_registry_dir() -> Path:
    configured = os.environ.get(REGISTRY_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".wranglerpy" / "registry"


@dataclass(frozen=True)
class WorkerLocation:
    """Where a running worker can be reached from another process on this machine."""

    name: str  # the worker's name, with its env suffix (e.g. "api-production")
    base_name: str  # the top-level name (e.g. "api")
    env: str | None
    socket: str  # unix socket path for service-binding calls
    url: str  # public http URL
    pid: int  # the supervising process; the entry is stale once it is gone
    mode: str = "dev"  # "dev" or "edge"
    tail: str = ""  # unix socket of the supervisor's tail server (live events)
    # A gradual deployment on the edge: [(socket, percentage), ...]; calls follow the split.
    split: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, config: WorkerConfig, socket: str, url: str, **more: Any) -> WorkerLocation:
        """The entry of the worker of ``config`` (its name, top-level name and env) in this
        process."""
        name = config.name
        return cls(
            name, config.base_name or name, config.env_name, socket, url, os.getpid(), **more
        )

    def pick_socket(self) -> str:
        """The socket one call goes to: ``socket``, or one of ``split`` by its share."""
        if len(self.split) < 2:
            return self.socket
        point = random.random() * 100.0
        for path, pct in self.split:
            point -= pct
            if point < 0:
                return str(path)
        return self.socket


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Locations:
    """Reads and writes worker entries; lookups are cached by file mtime (cheap per call)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_registry_dir()
        self._cache: dict[Path, tuple[int, WorkerLocation | None]] = {}
        self._paths: dict[tuple[str, str], Path] = {}  # made once: every binding call looks up

    def _path(self, name: str, mode: str = "dev") -> Path:
        path = self._paths.get((name, mode))
        if path is None:
            safe = re.sub(r"[^\w.-]", "_", name)
            path = self._paths[name, mode] = self.directory / f"{safe}.{mode}.json"
        return path

    def claim(self, name: str, mode: str = "dev") -> int:
        """Own ``name`` until the returned descriptor is closed; UsageError while another
        live process owns it (two sessions of one worker would take each other's bindings,
        tail and Durable Objects)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = self._path(name, mode).with_suffix(".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace")  # its pid, before it registers
            os.close(fd)
            other = self.get(name, mode)
            where = f" (pid {other.pid}, {other.url})" if other is not None else f" (pid {owner})"
            raise UsageError(
                f'Worker "{name}" is already running in another wranglerpy {mode}{where}. '
                "Stop that session, or run this one under another worker name (`name` in "
                "its config, or another config)."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd

    def register(self, entry: WorkerLocation) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._path(entry.name, entry.mode)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(entry), out)
        os.replace(tmp, target)

    def unregister(self, name: str, pid: int, mode: str = "dev") -> None:
        """Remove ``name``'s entry if it is still ours (a later owner may have replaced it)."""
        path = self._path(name, mode)
        entry = self._read(path)
        if entry is not None and entry.pid == pid:
            path.unlink(missing_ok=True)

    def _read(self, path: Path) -> WorkerLocation | None:
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            self._cache.pop(path, None)
            return None
        cached = self._cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        try:
            data = json.loads(path.read_text())
            data.pop("token", None)  # written by wranglerpy before the frame protocol
            entry: WorkerLocation | None = WorkerLocation(**data)
        except (OSError, ValueError, TypeError):
            entry = None
        self._cache[path] = (mtime, entry)
        return entry

    def get(self, name: str, mode: str = "dev") -> WorkerLocation | None:
        entry = self._read(self._path(name, mode))
        if entry is None or not pid_alive(entry.pid):
            return None
        return entry

    def lookup(
        self, service: str, environment: str | None = None, mode: str = "dev"
    ) -> WorkerLocation | None:
        """The worker a ``[[services]]`` binding reaches.

        With ``environment``, the target's ``[env.X]`` worker (``<service>-<X>``) is preferred;
        if only the plain ``service`` runs (the usual ``dev`` case), that one answers.
        """
        if environment:
            entry = self.get(f"{service}-{environment}", mode)
            if entry is not None:
                return entry
        return self.get(service, mode)

    def entries(self, mode: str | None = None) -> list[WorkerLocation]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            if path.name.startswith(".tmp-"):
                continue
            entry = self._read(path)
            if entry is not None and (mode is None or entry.mode == mode) and pid_alive(entry.pid):
                found.append(entry)
        return found
