"""Start ``wranglerpy dev`` for a test, wait until every worker answers, stop it afterwards.

The real CLI runs in a child process, on free ports, with its own dev registry and (by
default) throw-away state, so tests see exactly what a user sees. A test run that ends
without stopping its servers (killed with SIGTERM, e.g. by a CI timeout, or leaving through
``sys.exit``) stops them on its way out: nothing keeps running after the tests.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType

import httpx

from wranglerpy.host.locations import Locations, WorkerLocation


class DevServerError(RuntimeError):
    """``wranglerpy dev`` did not come up; the message carries its output."""


_running: set[DevServer] = set()  # started and not stopped yet
_reaper_installed = False
REAP_GRACE = 5.0  # seconds each server gets to stop its workers when the run is going away


def _reap() -> None:
    """Stop every server still running (at interpreter exit, or on SIGTERM)."""
    for server in list(_running):
        server.stop(REAP_GRACE)


def _on_sigterm(previous: object) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        _reap()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            # The default action: die by the signal, as if nobody had been in the way.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    return handler


def _install_reaper() -> None:
    """Once per process: atexit, and a SIGTERM handler that chains to the one before it."""
    global _reaper_installed
    if _reaper_installed:
        return
    _reaper_installed = True
    atexit.register(_reap)
    if threading.current_thread() is threading.main_thread():  # signals: main thread only
        signal.signal(signal.SIGTERM, _on_sigterm(signal.getsignal(signal.SIGTERM)))


def free_port(ip: str = "127.0.0.1") -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((ip, 0))
        return int(sock.getsockname()[1])


class DevServer:
    """``with DevServer("wrangler.toml", "wrangler-streaming.toml") as dev: dev.client("api")``."""

    def __init__(
        self,
        *configs: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        port: int | None = None,
        persist_to: str | os.PathLike[str] | None = None,
        env: str | None = None,
        extra_args: Sequence[str] = (),
        environ: dict[str, str] | None = None,
        timeout: float = 60.0,
        watch: bool = True,
        services: bool = False,
    ) -> None:
        self.configs = [Path(c) for c in configs]
        self.cwd = Path(cwd) if cwd else None
        self.port = port if port is not None else free_port()
        self.persist_to = Path(persist_to) if persist_to else None
        self.env = env
        self.extra_args = list(extra_args)
        self.environ = environ or {}
        self.timeout = timeout
        self.watch = watch
        # The local S3 and OpenAI APIs are a process of their own: started only when asked for.
        self.services = services
        self.process: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, WorkerLocation] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="wranglerpy-test-")
        self.registry_dir = Path(self._tmp.name) / "registry"
        self.log_path = Path(self._tmp.name) / "dev.log"
        self._clients: list[httpx.Client] = []

    @property
    def args(self) -> list[str]:
        # The first worker on a free port, every other on any free port (not its [dev] port),
        # so a test runs while the project's own `dev` (or another test's) holds those.
        args = [sys.executable, "-m", "wranglerpy", "dev", "--port", str(self.port)]
        args += ["--worker-port", "*=0"]
        for config in self.configs:
            args += ["-c", str(config)]
        if self.persist_to is not None:
            args += ["--persist-to", str(self.persist_to)]
        else:
            args += ["--no-persist"]
        if self.env:
            args += ["--env", self.env]
        if not self.watch:
            args.append("--no-watch")
        if not self.services:
            args.append("--no-services")
        return args + self.extra_args

    def start(self) -> DevServer:
        _install_reaper()
        environ = dict(os.environ)
        environ.update(self.environ)
        environ["WRANGLERPY_REGISTRY_PATH"] = str(self.registry_dir)
        environ.setdefault("NO_COLOR", "1")
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environ,
            start_new_session=True,
        )
        _running.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def output(self) -> str:
        """Everything ``dev`` printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _wait_ready(self) -> None:
        assert self.process is not None
        registry = Locations(self.registry_dir)
        deadline = time.monotonic() + self.timeout
        expected = len(self.configs) or None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DevServerError(
                    f"wranglerpy dev exited with code {self.process.returncode}:\n{self.output()}"
                )
            entries = [e for e in registry.entries("dev") if e.pid == self.process.pid]
            if (
                entries
                and (expected is None or len(entries) >= expected)
                and "Ready in" in self.output()
            ):
                self.workers = {e.name: e for e in entries}
                if all(self._answers(e.url) for e in entries):
                    return
            time.sleep(0.05)
        raise DevServerError(
            f"wranglerpy dev was not ready within {self.timeout} s:\n{self.output()}"
        )

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            httpx.get(url + "/", timeout=2.0)
        except httpx.HTTPError:
            return False
        return True

    def url(self, worker: str | None = None) -> str:
        """The base URL of ``worker`` (default: the first config's worker)."""
        if worker is None:
            return f"http://127.0.0.1:{self.port}"
        try:
            return self.workers[worker].url
        except KeyError:
            raise KeyError(f"no worker {worker!r}; running: {', '.join(self.workers)}") from None

    def client(self, worker: str | None = None, **kwargs: object) -> httpx.Client:
        """An httpx client whose base URL is ``worker``'s; closed when the server stops."""
        kwargs.setdefault("timeout", 30.0)
        client = httpx.Client(base_url=self.url(worker), **kwargs)  # type: ignore[arg-type]
        self._clients.append(client)
        return client

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the whole process group; SIGKILL what is left after ``timeout``."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        _running.discard(self)
        process = self.process
        code = None
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            code = process.returncode
        if hasattr(self, "_log"):
            self._log.close()
        return code

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
