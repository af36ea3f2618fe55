"""Start, find and stop the edge daemon from the CLI (it runs detached, in its own session)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from wranglerpy.deploy import control
from wranglerpy.deploy.control_messages import (
    ControlRequest,
    DeleteRequest,
    DeployAnswer,
    DeployRequest,
    EdgeState,
    StatusRequest,
    StopRequest,
    TriggerAnswer,
    TriggerRequest,
)
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.errors import DeployError
from wranglerpy.host.http_limits import parse_limits
from wranglerpy.host.locations import pid_alive
from wranglerpy.private_paths import private_dir, private_file

DEFAULT_PORT = 8080
START_TIMEOUT = 30.0
T = TypeVar("T")
# Daemons started by this process: kept so they can be reaped (no zombie, no ResourceWarning).
_started: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class EdgeStatus:
    pid: int
    ip: str
    port: int
    control: Path
    tail: Path
    raw: dict[str, Any]

    @property
    def url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"http://{host}:{self.port}"

    def _ask(self, request: ControlRequest, timeout: float = 120.0) -> Any:
        """One control call (see ``control``); the answer's fields."""
        if self.raw.get("control_protocol") != control.PROTOCOL:
            raise DeployError(
                f"The local edge (pid {self.pid}) was started by an older wranglerpy and "
                "does not understand this one; restart it: `wranglerpy edge stop`, then "
                "`wranglerpy edge start` (deployments are kept)."
            )
        return control.call(self.control, request, timeout)

    def _read(self, request: ControlRequest, read: Callable[[Any], T]) -> T:
        answer = self._ask(request)
        try:
            return read(answer)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DeployError(
                f"The local edge answered `{request.OP}` with something this wranglerpy "
                f"cannot read ({type(exc).__name__}: {exc}); restart it with `wranglerpy "
                "edge stop` and `wranglerpy edge start`."
            ) from None

    def status(self) -> EdgeState:
        return self._read(StatusRequest(), EdgeState.from_answer)

    def deploy(
        self,
        version_id: str,
        message: str = "",
        source: str = "deploy",
        versions: list[tuple[str, float]] | None = None,
    ) -> DeployAnswer:
        """Switch the version's worker to it (or to ``versions``, a split: [(id, percentage)]),
        with zero failed requests."""
        split = [[v, p] for v, p in versions] if versions else []
        return self._read(
            DeployRequest(version_id, message, source, split), DeployAnswer.from_answer
        )

    def trigger(self, worker: str, cron: str | None = None) -> str:
        """Run ``worker``'s scheduled handler now; returns the cron it ran with."""
        return self._read(TriggerRequest(worker, cron), TriggerAnswer.from_answer).cron

    def delete(self, worker: str) -> None:
        self._ask(DeleteRequest(worker))

    def stop(self) -> None:
        self._ask(StopRequest(), timeout=15.0)


def _is_daemon(pid: int) -> bool:
    """Alive and an edge daemon (a pid in an old status file may belong to anything now)."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (not Linux): trust the pid
    return b"wranglerpy.deploy.daemon" in cmdline


def _read(paths: EdgePaths) -> dict[str, Any] | None:
    try:
        data = json.loads(paths.status.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def running_edge(paths: EdgePaths) -> EdgeStatus | None:
    """The edge serving ``paths``, if its daemon is alive."""
    data = _read(paths)
    if not data or data.get("state") != "running" or not _is_daemon(int(data.get("pid", 0))):
        return None
    return EdgeStatus(
        int(data["pid"]),
        str(data["ip"]),
        int(data["port"]),
        Path(data["control"]),
        Path(data["tail"]),
        data,
    )


def start_edge(
    paths: EdgePaths,
    **options: Any,
) -> tuple[EdgeStatus, bool]:
    """The running edge, or a new one started in the background; ``(status, started)``.

    Two commands starting the edge at once (two terminals running ``deploy``) take turns on
    a lock file, so only one daemon is started and both get it.
    """
    import fcntl

    private_dir(paths.root)  # edge.log and the versions are the user's own (issue 18)
    with open(paths.root / ".start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_edge(paths, **options)


def _start_edge(
    paths: EdgePaths,
    *,
    ip: str = "127.0.0.1",
    port: int | None = None,
    processes: int = 1,
    persist_to: Path | None = None,
    simulate_latency: bool = False,
    http_limits: list[str] | None = None,
    services: bool = True,
    services_port: int | None = None,
) -> tuple[EdgeStatus, bool]:
    """Without ``port``, the edge takes the port it had last time (so URLs stay the same
    across restarts), else 8080."""
    current = running_edge(paths)
    if current is not None:
        return current, False
    if port is None:
        port = last_port(paths)
    paths.status.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "wranglerpy.deploy.daemon",
        "--state-dir",
        str(paths.root),
        "--ip",
        ip,
        "--port",
        str(port),
        "--processes",
        str(processes),
    ]
    if persist_to is not None:
        command += ["--persist-to", str(persist_to.resolve())]
    if simulate_latency:
        command.append("--simulate-latency")
    if http_limits:
        parse_limits(http_limits)  # a bad KEY=VALUE is this command's error, not the daemon's
        for item in http_limits:
            command += ["--http-limit", item]
    if not services:
        command.append("--no-services")
    elif services_port is not None:
        command += ["--services-port", str(services_port)]
    with open(private_file(paths.log), "ab") as log:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the CLI and its terminal's Ctrl-C
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        data = _read(paths)
        if data and data.get("pid") == proc.pid:
            if data.get("state") == "failed":
                proc.wait(5)
                raise DeployError(f"The local edge could not start: {data.get('error')}")
            status = running_edge(paths)
            if status is not None:
                _started[proc.pid] = proc
                return status, True
        if proc.poll() is not None:  # exited (and reaped) before it was ready
            raise DeployError(
                f"The local edge exited at start (code {proc.returncode}); see {paths.log}:\n"
                + _log_tail(paths)
            )
        time.sleep(0.05)
    proc.terminate()
    proc.wait(10)
    raise DeployError(
        f"The local edge did not become ready in {START_TIMEOUT:.0f} s; see {paths.log}."
    )


def last_port(paths: EdgePaths) -> int:
    try:
        return int(paths.last_port.read_text().strip())
    except (OSError, ValueError):
        return DEFAULT_PORT


def _log_tail(paths: EdgePaths, lines: int = 15) -> str:
    try:
        return "\n".join(paths.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop_edge(paths: EdgePaths, timeout: float = 15.0) -> int | None:
    """SIGTERM the daemon and wait for it (SIGKILL after ``timeout``); its pid, or None."""
    data = _read(paths)
    if not data:
        return None
    pid = int(data.get("pid", 0))
    if not pid or not _is_daemon(pid):
        paths.status.unlink(missing_ok=True)
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    proc = _started.pop(pid, None)
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return pid
        if proc is None and (not pid_alive(pid) or _zombie(pid)):
            return pid
        time.sleep(0.05)
    os.killpg(pid, signal.SIGKILL)
    if proc is not None:
        proc.wait()
    paths.status.unlink(missing_ok=True)
    return pid


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False
