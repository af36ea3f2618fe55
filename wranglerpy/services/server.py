"""Start and stop the services process (S3 API + OpenAI API on one 127.0.0.1 port).

``dev``, the local edge and ``wranglerpy services`` call :func:`start_services` once and
:meth:`ServicesHandle.stop` at exit. The parent binds the port (so a taken port is a clear
error before anything starts) and hands it to a child process, which opens the stores and
loads models: the supervisor itself never does (architecture convention 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import WranglerError
from wranglerpy.host.sockets import bind_tcp, port_is_free
from wranglerpy.services.info import ServicesInfo, write_info
from wranglerpy.services.spec import READY, ServicesSpec, spec_for

# Like wrangler's inspector port: this one when free, else any free port.
DEFAULT_PORT = 8990
EDGE_PORT = 8991  # the edge's, so it and a dev session can both have a stable one
HOST = "127.0.0.1"  # never anything else: the S3 keys and models are for this machine only
START_TIMEOUT_S = 30.0

LineSink = Callable[[str], None]


@dataclass
class ServicesHandle:
    port: int
    spec: ServicesSpec
    proc: asyncio.subprocess.Process
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def s3_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def dashboard_url(self) -> str:
        return f"http://{HOST}:{self.port}/_dashboard/"

    @property
    def info(self) -> ServicesInfo:
        return ServicesInfo(
            "running",
            port=self.port,
            s3_url=self.s3_url,
            openai_url=self.openai_url,
            dashboard_url=self.dashboard_url,
            access_key_id=self.spec.access_key_id,
        )

    def banner_lines(self) -> list[str]:
        return self.info.banner_lines()

    async def stop(self, grace: float = 5.0) -> None:
        """Close stdin (the child's cue to stop), then SIGTERM, then SIGKILL. Idempotent."""
        if self.proc.returncode is None:
            if self.proc.stdin is not None:
                with contextlib.suppress(Exception):
                    self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except asyncio.TimeoutError:
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.proc.pid, sig)
                    try:
                        await asyncio.wait_for(self.proc.wait(), grace)
                        break
                    except asyncio.TimeoutError:
                        continue
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def pick_port(port: int | None, default: int = DEFAULT_PORT) -> int:
    """``port`` as given (0: any free one); None: ``default`` when free, else any free one."""
    if port is not None:
        return port
    return default if port_is_free(HOST, default) else 0


async def start_services(
    spec: ServicesSpec,
    port: int | None = None,
    log: LineSink | None = None,
    default_port: int = DEFAULT_PORT,
) -> ServicesHandle:
    """Bind the port, start the child and wait until it serves. ``log`` gets its output lines."""
    sink = log or (lambda line: None)
    sock = bind_tcp(HOST, pick_port(port, default_port))
    try:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wranglerpy.services.child",
            str(sock.fileno()),
            pass_fds=(sock.fileno(),),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: stopped as a whole, not by Ctrl-C
            env=env,
        )
        bound = sock.getsockname()[1]
    finally:
        sock.close()  # the child holds it now
    handle = ServicesHandle(bound, spec, proc)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(spec.to_json().encode() + b"\n")
    await proc.stdin.drain()
    errors: list[str] = []
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT_S)
    except asyncio.TimeoutError:
        line = b""
    if line.decode().strip() != READY:
        await handle.stop(1.0)
        errors = (await proc.stderr.read()).decode(errors="replace").strip().splitlines()
        reason = errors[-1] if errors else "no output"
        raise WranglerError(f"The local services (S3/OpenAI APIs) could not start: {reason}")
    handle._tasks = [
        asyncio.ensure_future(_forward(proc.stdout, sink)),
        asyncio.ensure_future(_forward(proc.stderr, sink)),
    ]
    return handle


async def _forward(stream: asyncio.StreamReader, sink: LineSink) -> None:
    while line := await stream.readline():
        sink(line.decode(errors="replace").rstrip())


@dataclass(frozen=True)
class ServicesOptions:
    """``--services-port`` / ``--no-services`` of ``dev`` (programmatic callers: off)."""

    enabled: bool = False
    port: int | None = None  # None: default_port when free, else any free port
    default_port: int = DEFAULT_PORT


async def start_beside(
    workers: list[WorkerConfig],
    persist_dir: Path | None,
    options: ServicesOptions,
    log: LineSink,
    *,
    tail_socket: Path | None = None,
    edge_root: Path | None = None,
) -> ServicesHandle | None:
    """The services for a ``dev`` session or the edge (None when disabled). ``persist_dir``
    None: the first worker's default, as the supervisor picks it. ``tail_socket``: where the
    dashboard reads live events; ``edge_root``: the edge's folder (its deployed workers)."""
    if not options.enabled:
        return None
    if persist_dir is None:
        from wranglerpy.config.persist import default_persist_dir

        persist_dir = default_persist_dir(workers[0].root if workers else Path.cwd())
    spec = replace(
        spec_for(workers, persist_dir),
        tail_socket=str(tail_socket or ""),
        edge_root=str(edge_root or ""),
    )
    return await start_services(spec, options.port, log, options.default_port)


async def services_banner(starting: asyncio.Future[ServicesHandle | None]) -> list[str]:
    """The banner lines once the services started beside the workers are up ([] if off)."""
    handle = await starting
    return handle.banner_lines() if handle is not None else []


async def stop_beside(starting: asyncio.Future[ServicesHandle | None]) -> None:
    """Stop what :func:`start_beside` started, even if it is still starting or failed."""
    with contextlib.suppress(Exception):
        handle = await starting
        if handle is not None:
            await handle.stop()


async def announce(
    starting: asyncio.Future[ServicesHandle | None], log: LineSink, folder: Path
) -> ServicesInfo:
    """Log the banner lines and keep where the services serve in ``folder/services.json`` (the
    edge's ``status`` answer carries it); a failure to start is logged and kept too, and the
    edge runs on without them."""
    try:
        handle = await starting
    except WranglerError as exc:
        log(f"✘ {exc.message}")
        info = ServicesInfo("failed", error=exc.message)
    else:
        info = handle.info if handle is not None else ServicesInfo("off")
        for line in info.banner_lines():
            log(line)
    write_info(folder, info)
    return info
