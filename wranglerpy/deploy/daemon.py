"""The local edge: ``python -m wranglerpy.deploy.daemon --state-dir DIR --ip IP --port P``.

One long-running process that serves every deployed worker on one public port (see
``router``), runs each worker's current version in its own processes (see ``fleet``),
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
from pathlib import Path
from typing import Any

from wranglerpy.config.plan import dependency_order
from wranglerpy.deploy import control
from wranglerpy.deploy.control_messages import (
    DeleteRequest,
    DeployRequest,
    EdgeState,
    StatusRequest,
    TriggerRequest,
    WorkerState,
    decode_request,
)
from wranglerpy.deploy.fleet import Fleet
from wranglerpy.deploy.history import Deployment, DeploymentLog
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.router import Router
from wranglerpy.deploy.routes import build_table
from wranglerpy.deploy.versions import Version, load_version
from wranglerpy.errors import DeployError, WranglerError
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.host.schedule import CronScheduler, fire_cron
from wranglerpy.host.sockets import bind_tcp
from wranglerpy.logs.hub import LogHub
from wranglerpy.logs.printer import Printer
from wranglerpy.logs.tail_server import TailServer
from wranglerpy.runtime.latency import model_for
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.services import server as services_server
from wranglerpy.tracing.hooks import start_export, stop_export


class EdgeDaemon:
    def __init__(
        self,
        paths: EdgePaths,
        ip: str,
        port: int,
        *,
        processes: int = 1,
        persist_dir: Path | None = None,
        registry: Locations | None = None,
        hub: LogHub | None = None,
        printer: Printer | None = None,
        simulate_latency: bool = False,
    ) -> None:
        self.paths = paths
        self.ip = ip
        self.requested_port = port
        self.processes = processes
        self.persist_dir = persist_dir or paths.state
        self.registry = registry or Locations()
        self.hub = hub or LogHub()
        self.printer = printer
        self.simulate_latency = simulate_latency
        self.log = DeploymentLog(paths.deployments)
        self.fleets: dict[str, Fleet] = {}
        self.draining: set[Fleet] = set()  # replaced versions, until they have stopped
        self.versions: dict[str, Version] = {}
        self.router = Router(self.fleets.get)
        self.port = 0
        self.pid = os.getpid()
        self.tail_path = paths.socket("tail")
        self.control_path = paths.socket("control")
        self._locks: dict[str, asyncio.Lock] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._tail = TailServer(self.hub, self.tail_path)
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
        self.router.public_port = self.port
        self._servers.append(
            await asyncio.start_server(self.router.handle, sock=sock, limit=1 << 16)
        )
        await self._tail.start()
        self._servers.append(await control.serve(self.control_path, self.handle))
        await self._restore()
        self._write_status("running")
        self.hub.system(f"⎔ Local edge ready on http://{self.ip}:{self.port} (pid {self.pid})")

    async def _restore(self) -> None:
        """Start the workers that were deployed when the edge last ran (targets first)."""
        configs = {}
        for worker in self.log.workers():
            current = self.log.current(worker)
            if current is None:
                continue
            try:
                version = load_version(self.paths, current.version_id)
                configs[worker] = (version, version.config())
            except (WranglerError, OSError) as exc:
                self.hub.system(f"✘ cannot restore {worker}: {exc}", worker=worker, level="error")
        for config in dependency_order([c for _, c in configs.values()]):
            version = configs[config.name][0]
            try:
                await self._switch(version)
                self.hub.system(f"⎔ Restored {config.name} (version {version.short_id})")
            except WranglerError as exc:
                self.hub.system(f"✘ {exc}", worker=config.name, level="error")

    async def shutdown(self) -> None:
        self.crons.stop()
        for server in self._servers:
            server.close()
        await self.router.close()
        fleets = [*self.fleets.values(), *self.draining]
        await asyncio.gather(*(f.stop(3.0) for f in fleets), return_exceptions=True)
        for name in list(self.fleets):
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

    async def _switch(self, version: Version) -> Fleet:
        """Start ``version``, point the router and the registry at it, drain the old one."""
        config = version.config()
        name = config.name
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            spec = WorkerSpec(
                config=config,
                persist_dir=self.persist_dir,
                registry_dir=self.registry.directory,
                mode="edge",
                expose_errors=False,
                python_path=version.python_path,
                drain_seconds=30.0,  # as long as the router lets a request finish
                latency=model_for(config.placement) if self.simulate_latency else None,
            )
            if self.printer is not None:
                self.printer.add_worker(name)
            fleet = self._fleet(spec, version)
            await fleet.start()
            old = self.fleets.get(name)
            self.fleets[name] = fleet
            self.versions[name] = version
            self._rebuild_routes()
            self.registry.register(
                WorkerLocation(
                    name=name,
                    base_name=config.base_name or name,
                    env=config.env_name,
                    socket=str(fleet.frames_path),
                    url=self.public_url(name) if config.workers_dev else "",
                    pid=self.pid,
                    mode="edge",
                    tail=str(self.tail_path),
                )
            )
            self.crons.schedule(name, config.triggers.crons)
            if old is not None:
                self.draining.add(old)
                drain = asyncio.ensure_future(old.drain_and_stop())
                drain.add_done_callback(lambda _t: self.draining.discard(old))
            return fleet

    async def remove(self, name: str) -> None:
        """Stop serving ``name``: no route, no registry entry, no crons; its requests drain."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            fleet = self.fleets.pop(name, None)
            self.versions.pop(name, None)
            self._rebuild_routes()
            self.crons.cancel(name)
            self.registry.unregister(name, self.pid, "edge")
            if fleet is not None:
                self.draining.add(fleet)
                drain = asyncio.ensure_future(fleet.drain_and_stop(settle=0.0))
                drain.add_done_callback(lambda _t: self.draining.discard(fleet))

    def _fleet(self, spec: WorkerSpec, version: Version) -> Fleet:
        client_ms = spec.latency.client_ms if spec.latency is not None else 0.0
        return Fleet(spec, version.id, self.processes, self.hub, client_delay=client_ms / 1000)

    async def fire_scheduled(self, name: str, cron: str, scheduled_ms: float) -> None:
        """Run ``name``'s scheduled handler (a frame call: it is not a public route)."""
        fleet = self.fleets.get(name)
        if fleet is None:
            raise DeployError(f'"{name}" is not deployed on this edge.')
        await fire_cron(fleet.client, self.hub, name, cron, scheduled_ms)

    def _rebuild_routes(self) -> None:
        table: dict[str, tuple[bool, tuple[str, ...]]] = {}
        internal = set()
        for name, version in self.versions.items():
            meta = version.meta
            table[name] = (bool(meta.get("workers_dev")), tuple(meta.get("routes") or ()))
            if not meta.get("workers_dev") and not meta.get("routes"):
                internal.add(name)
        self.router.table = build_table(table)
        self.router.internal = internal

    # ---------------------------------------------------------------- control
    async def handle(self, data: dict[str, Any]) -> dict[str, Any]:
        """One control request (see ``control_messages``) -> its answer."""
        request = decode_request(data)
        if isinstance(request, StatusRequest):
            return {"ok": True, **self.describe()}
        if isinstance(request, DeployRequest):
            version = load_version(self.paths, request.version)
            started = time.perf_counter()
            await self._switch(version)
            deployment = Deployment.new(
                version.worker, version.id, request.message, request.source or "deploy"
            )
            self.log.record(deployment)
            self.hub.system(
                f"✔ {version.worker} now serves version {version.short_id}",
                worker=version.worker,
            )
            return {
                "ok": True,
                "deployment": deployment.id,
                "seconds": round(time.perf_counter() - started, 3),
                **self.describe(),
            }
        if isinstance(request, TriggerRequest):
            live = self.versions.get(request.worker)
            if live is None:
                raise DeployError(f'"{request.worker}" is not deployed on this edge.')
            crons = live.config().triggers.crons
            cron = request.cron or (crons[0] if crons else "")
            await self.fire_scheduled(request.worker, cron, time.time() * 1000)
            return {"ok": True, "cron": cron}
        if isinstance(request, DeleteRequest):
            await self.remove(request.worker)
            self.log.remove(request.worker)
            self.hub.system(f"✔ {request.worker} was deleted from the edge", worker=request.worker)
            return {"ok": True}
        self.stop_event.set()  # StopRequest
        return {"ok": True}

    def describe(self) -> dict[str, Any]:
        """The ``status`` answer: an ``EdgeState`` as JSON."""
        workers = {}
        for name, fleet in self.fleets.items():
            meta = self.versions[name].meta
            workers[name] = WorkerState(
                version=fleet.version_id,
                processes=[p.pid for p in fleet.processes if p.pid is not None],
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
            draining=sorted(f"{f.name} {f.version_id[:8]}" for f in self.draining),
        ).to_answer()


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
    loop = asyncio.get_running_loop()
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
        services_server.start_beside([], daemon.persist_dir, options, hub.system)
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
        for fleet in [*daemon.fleets.values(), *daemon.draining]:
            fleet.kill_all()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wranglerpy-edge")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--persist-to", default=None)
    parser.add_argument("--simulate-latency", action="store_true")
    parser.add_argument("--services-port", type=int, default=None)
    parser.add_argument("--no-services", action="store_true")
    args = parser.parse_args(argv)
    from wranglerpy.runtime.child import run_event_loop

    code = 0

    async def runner() -> None:
        nonlocal code
        code = await run(args)

    run_event_loop(runner())
    return code


if __name__ == "__main__":
    sys.exit(main())
