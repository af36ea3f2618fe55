"""The local edge: ``python -m wranglerpy.deploy.daemon --state-dir DIR --ip IP --port P``.

One long-running process that serves every deployed worker on one public port (see
``router``), runs each worker's current version in its own processes (a ``HostedWorker``),
registers them for service bindings (mode ``edge``) and for ``tail``, answers the CLI on a
control socket, and on start brings back every worker recorded in ``deployments.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from functools import partial
from pathlib import Path

from wranglerpy.bindings.version_metadata import VersionInfo
from wranglerpy.config.plan import dependency_order
from wranglerpy.deploy import control
from wranglerpy.deploy.control_messages import (
    ControlAnswer,
    ControlRequest,
    DeleteRequest,
    DeployAnswer,
    DeployRequest,
    EdgeState,
    StatusRequest,
    TriggerAnswer,
    TriggerRequest,
    WorkerState,
)
from wranglerpy.deploy.history import Deployment, DeploymentLog
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.router import Router
from wranglerpy.deploy.routes import build_table
from wranglerpy.deploy.split import pick
from wranglerpy.deploy.versions import Version, load_version
from wranglerpy.errors import DeployError, WranglerError
from wranglerpy.host.http_limits import parse_limits, quiet_accept_errors
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.host.pool import HostedWorker, Spares, StartFailed
from wranglerpy.host.process import WorkerProcess
from wranglerpy.host.schedule import CronScheduler, fire_cron
from wranglerpy.host.sockets import bind_tcp
from wranglerpy.logs.hub import LogHub
from wranglerpy.logs.printer import Printer
from wranglerpy.logs.tail_server import TailServer
from wranglerpy.runtime.latency import model_for
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.services import server as services_server
from wranglerpy.services.info import read_info
from wranglerpy.tracing.hooks import start_export, stop_export
from wranglerpy.wire.server import FrameServer


class EdgeDaemon:
    def __init__(
        self,
        paths: EdgePaths,
        ip: str,
        port: int,
        *,
        processes: int = 1,
        persist_dir: Path | None = None,
        hub: LogHub | None = None,
        printer: Printer | None = None,
        simulate_latency: bool = False,
    ) -> None:
        self.paths = paths
        self.ip = ip
        self.requested_port = port
        self.processes = processes
        self.persist_dir = persist_dir or paths.state
        self.registry = Locations()
        self.hub = hub or LogHub()
        self.printer = printer
        self.simulate_latency = simulate_latency
        self.log = DeploymentLog(paths.deployments)
        self.draining: set[HostedWorker[Version]] = (
            set()
        )  # replaced versions, until they have stopped
        # Every version each worker serves, with its percentage (two during a split).
        self.splits: dict[str, list[tuple[HostedWorker[Version], float]]] = {}
        self.router = Router(self.pick)
        self.port = 0
        self.pid = os.getpid()
        self.tail_path = paths.socket("tail")
        self.control_path = paths.socket("control")
        self._locks: dict[str, asyncio.Lock] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._tail = TailServer(self.hub, self.tail_path)
        self._control: FrameServer | None = None  # answers the CLI (``control``)
        self.stop_event = asyncio.Event()
        self.crons = CronScheduler(self.fire_scheduled)

    # ------------------------------------------------------------------ life
    async def start(self) -> None:
        sock = bind_tcp(
            self.ip,
            self.requested_port,
            owner="The local edge",
            hint="Start it on another with `wranglerpy edge start --port PORT`.",
        )
        self.port = sock.getsockname()[1]
        self._servers.append(
            await asyncio.start_server(self.router.handle, sock=sock, limit=1 << 16)
        )
        await self._tail.start()
        self._control = await control.serve(self.control_path, self.handle)
        await self._restore()
        self._write_status("running")
        self.hub.system(f"⎔ Local edge ready on http://{self.ip}:{self.port} (pid {self.pid})")

    async def _restore(self) -> None:
        """Start the workers that were deployed when the edge last ran (targets first), each
        with the split of its last deployment."""
        splits: dict[str, list[tuple[Version, float]]] = {}
        configs = []
        for worker in self.log.workers():
            current = self.log.current(worker)
            if current is None:
                continue
            try:
                split = [(load_version(self.paths, v), p) for v, p in current.split]
                main = next(v for v, _ in split if v.id == current.version_id)
                configs.append(main.config())
                splits[worker] = split
            except (WranglerError, OSError, StopIteration) as exc:
                self.hub.system(f"✘ cannot restore {worker}: {exc}", worker=worker, level="error")
        for config in dependency_order(configs):
            split = splits[config.name]
            try:
                await self._deploy(split)
                ids = ", ".join(v.short_id for v, _ in split)
                self.hub.system(f"⎔ Restored {config.name} (version {ids})")
            except WranglerError as exc:
                self.hub.system(f"✘ {exc}", worker=config.name, level="error")

    async def shutdown(self) -> None:
        self.crons.stop()
        for server in self._servers:
            server.close()
        if self._control is not None:
            await self._control.close(grace=1.0)  # a deploy in flight: shutdown bounds it
        await self.router.close()
        fleets = [*self._serving(), *self.draining]
        await asyncio.gather(*(f.stop(3.0) for f in fleets), return_exceptions=True)
        for name in list(self.splits):
            self.registry.unregister(name, self.pid, "edge")
        await self._tail.close()
        self.paths.status.unlink(missing_ok=True)
        self.control_path.unlink(missing_ok=True)

    def _write_status(self, state: str, error: str = "") -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        data = {
            "state": state,
            "pid": self.pid,
            "ip": self.ip,
            "port": self.port,
            "control": str(self.control_path),
            "control_protocol": control.PROTOCOL,
            "tail": str(self.tail_path),
            "processes": self.processes,
            "simulate_latency": self.simulate_latency,
            "persist_dir": str(self.persist_dir),
            "registry": str(self.registry.directory),
            "started": time.time(),
            "error": error,
        }
        if state == "running":
            self.paths.last_port.write_text(f"{self.port}\n")
        tmp = self.paths.status.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.paths.status)

    # -------------------------------------------------------------- switching
    def public_url(self, name: str) -> str:
        return f"http://{name.lower()}.localhost:{self.port}"

    def _spec(self, version: Version) -> WorkerSpec:
        config = version.config()
        return WorkerSpec(
            config=config,
            persist_dir=self.persist_dir,
            registry_dir=self.registry.directory,
            mode="edge",
            expose_errors=False,
            python_path=version.python_path,
            drain_seconds=30.0,  # as long as the router lets a request finish
            latency=model_for(config.placement) if self.simulate_latency else None,
            version=VersionInfo(version.id, version.tag, version.created_on),
        )

    def _host(self, version: Version) -> HostedWorker[Version]:
        """A version's own frame socket and ``processes`` processes on it: strict load; the
        router owns the public port, so they serve frames only."""
        return HostedWorker(
            version.config(),
            self.hub,
            version,
            label=f"edge-{version.worker}",
            size=self.processes,
            require_clean_load=True,
            tag={"version": version.id},
            spares=Spares(partial(WorkerProcess, http=False), keep=0),
        )

    async def _deploy(self, split: list[tuple[Version, float]]) -> HostedWorker[Version]:
        """Serve ``split`` (one or two versions of one worker with their percentages): start
        the versions not running yet (each must load), point the router and the registry at
        the new split, then drain the versions that left it. Returns the main version's fleet.
        """
        name = split[0][0].worker
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            running = {f.version.id: f for f, _ in self.splits.get(name, [])}
            started: list[HostedWorker[Version]] = []
            try:
                for version, _ in split:
                    if version.id in running:
                        continue
                    if self.printer is not None:
                        self.printer.add_worker(name)
                    started.append(fleet := self._host(version))
                    await fleet.pool.start(self._spec(version))
                    running[version.id] = fleet
            except BaseException as exc:
                await asyncio.gather(*(f.stop(3.0) for f in started), return_exceptions=True)
                if not isinstance(exc, StartFailed):
                    raise
                if exc.detail:  # the version's code did not load
                    raise DeployError(
                        f'Worker "{name}" failed to load; nothing was switched.\n{exc.detail}'
                    ) from None
                raise DeployError(str(exc)) from None
            serving = [(running[v.id], pct) for v, pct in split]
            fleet = _main(serving)
            config = fleet.config
            old = self.splits.get(name, [])
            self.splits[name] = serving
            self._rebuild_routes()
            self.registry.register(
                WorkerLocation.of(
                    config,
                    str(fleet.path),
                    self.public_url(name) if config.workers_dev else "",
                    mode="edge",
                    tail=str(self.tail_path),
                    split=tuple((str(f.path), p) for f, p in serving if len(serving) > 1),
                )
            )
            self.crons.schedule(name, config.triggers.crons)
            kept = {id(f) for f, _ in serving}
            for gone, _ in old:
                if id(gone) not in kept:
                    self._drain(gone)
            return fleet

    def _drain(self, fleet: HostedWorker[Version], settle: float = 0.5) -> None:
        """Let ``fleet`` finish its requests and stop, in the background."""
        self.draining.add(fleet)
        task = asyncio.ensure_future(fleet.drain_and_stop(settle=settle))
        task.add_done_callback(lambda _t: self.draining.discard(fleet))

    def _live(self, name: str) -> HostedWorker[Version]:
        """``name``'s main version; DeployError when it is not deployed here."""
        serving = self.splits.get(name)
        if not serving:
            raise DeployError(f'"{name}" is not deployed on this edge.')
        return _main(serving)

    def pick(self, name: str, overrides: str = "", key: str = "") -> HostedWorker[Version] | None:
        """The fleet that answers one request for ``name`` (see ``split.pick``)."""
        serving = self.splits.get(name)
        if not serving:
            return None
        return pick([(f.version.id, pct, f) for f, pct in serving], name, overrides, key)

    async def remove(self, name: str) -> None:
        """Stop serving ``name``: no route, no registry entry, no crons; its requests drain."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            serving = self.splits.pop(name, [])
            self._rebuild_routes()
            self.crons.cancel(name)
            self.registry.unregister(name, self.pid, "edge")
            for fleet, _ in serving:
                self._drain(fleet, settle=0.0)

    def _serving(self) -> list[HostedWorker[Version]]:
        return [f for serving in self.splits.values() for f, _ in serving]

    async def fire_scheduled(self, name: str, cron: str, scheduled_ms: float) -> None:
        """Run ``name``'s scheduled handler (a frame call: it is not a public route)."""
        await fire_cron(self._live(name).client, self.hub, name, cron, scheduled_ms)

    def _rebuild_routes(self) -> None:
        table: dict[str, tuple[bool, tuple[str, ...]]] = {}
        for name, serving in self.splits.items():
            meta = _main(serving).version.meta
            table[name] = (bool(meta.get("workers_dev")), tuple(meta.get("routes") or ()))
        self.router.table = build_table(table)
        self.router.internal = {
            name for name, (dev, routes) in table.items() if not (dev or routes)
        }

    # ---------------------------------------------------------------- control
    async def handle(self, request: ControlRequest) -> ControlAnswer:
        """One control request (see ``control_messages``) -> its answer."""
        if isinstance(request, StatusRequest):
            return self.describe()
        if isinstance(request, DeployRequest):
            # versions deploy: [[id, percentage], ...]; otherwise ``version`` at 100%.
            wanted = request.versions or [[request.version, 100.0]]
            split = [(load_version(self.paths, str(v)), float(p)) for v, p in wanted]
            if len({v.worker for v, _ in split}) != 1:
                raise DeployError("The versions of one deployment must belong to one worker.")
            started = time.perf_counter()
            fleet = await self._deploy(split)
            deployment = Deployment.new(
                fleet.name,
                fleet.version.id,
                request.message,
                request.source or "deploy",
                tuple((v.id, p) for v, p in split),
            )
            self.log.record(deployment)
            several = len(split) > 1
            shares = ", ".join(
                f"{v.short_id} ({p:g}%)" if several else v.short_id for v, p in split
            )
            self.hub.system(f"✔ {fleet.name} now serves version {shares}", worker=fleet.name)
            seconds = round(time.perf_counter() - started, 3)
            return DeployAnswer(deployment.id, seconds, self.describe())
        if isinstance(request, TriggerRequest):
            crons = self._live(request.worker).config.triggers.crons
            cron = request.cron or (crons[0] if crons else "")
            await self.fire_scheduled(request.worker, cron, time.time() * 1000)
            return TriggerAnswer(cron)
        if isinstance(request, DeleteRequest):
            await self.remove(request.worker)
            self.log.remove(request.worker)
            self.hub.system(f"✔ {request.worker} was deleted from the edge", worker=request.worker)
            return None
        self.stop_event.set()  # StopRequest
        return None

    def describe(self) -> EdgeState:
        """The ``status`` answer."""
        workers = {}
        for name, serving in self.splits.items():
            main = _main(serving)
            meta = main.version.meta
            workers[name] = WorkerState(
                version=main.version.id,
                versions=[[f.version.id, pct] for f, pct in serving],
                processes=[p.pid for f, _ in serving for p in f.pool.processes if p.pid],
                url=self.public_url(name) if meta.get("workers_dev") else "",
                routes=list(meta.get("routes") or []),
                placement=meta.get("placement"),
            )
        return EdgeState(
            pid=self.pid,
            ip=self.ip,
            port=self.port,
            simulate_latency=self.simulate_latency,
            workers=workers,
            draining=sorted(f"{f.name} {f.version.id[:8]}" for f in self.draining),
            processes=self.processes,
            # ``run`` starts the services beside the daemon; announce() keeps the outcome there.
            services=read_info(self.paths.root, self.pid),
        )


def _main(serving: list[tuple[HostedWorker[Version], float]]) -> HostedWorker[Version]:
    """The version with the largest share of a worker's requests (the first on a tie): it runs
    the crons, takes the registry's plain socket, and ``status`` names it."""
    return max(serving, key=lambda each: each[1])[0]


async def run(args: argparse.Namespace) -> int:
    paths = EdgePaths.resolve(Path(args.state_dir))
    hub = LogHub()
    printer = Printer(log_format="pretty", colour=False)
    hub.subscribe(printer)
    spans = start_export(hub)  # OTLP, when OTEL_EXPORTER_OTLP_ENDPOINT is set
    daemon = EdgeDaemon(
        paths,
        args.ip,
        args.port,
        processes=args.processes,
        persist_dir=Path(args.persist_to).resolve() if args.persist_to else None,
        hub=hub,
        printer=printer,
        simulate_latency=args.simulate_latency,
    )
    daemon.router.limits = parse_limits(args.http_limit)
    loop = asyncio.get_running_loop()
    quiet_accept_errors(loop)  # "too many open files": one line, not a traceback per accept
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop_event.set)
    try:
        await daemon.start()
    except WranglerError as exc:
        await daemon.shutdown()
        daemon._write_status("failed", exc.message)  # read by the `edge start` that waits
        return 1
    # The S3 + OpenAI APIs over the edge's state; their URLs in services.json for `edge status`.
    options = services_server.ServicesOptions(
        not args.no_services, args.services_port, services_server.EDGE_PORT
    )
    services = asyncio.ensure_future(
        services_server.start_beside(
            [],
            daemon.persist_dir,
            options,
            hub.system,
            tail_socket=daemon.tail_path,
            edge_root=paths.root,
        )
    )
    try:
        await services_server.announce(services, hub.system, paths.root)
        await daemon.stop_event.wait()
    finally:
        await services_server.stop_beside(services)
        await stop_export(spans)
        hub.system("Local edge shutting down…")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(daemon.shutdown(), 10.0)
        for fleet in [*daemon._serving(), *daemon.draining]:
            fleet.pool.kill_all()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wranglerpy-edge")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--persist-to", default=None)
    parser.add_argument("--simulate-latency", action="store_true")
    parser.add_argument("--http-limit", action="append", default=[])
    parser.add_argument("--services-port", type=int, default=None)
    parser.add_argument("--no-services", action="store_true")
    args = parser.parse_args(argv)
    from wranglerpy.runtime.child import run_event_loop

    return int(run_event_loop(run(args)))


if __name__ == "__main__":
    sys.exit(main())
