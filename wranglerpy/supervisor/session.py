"""A whole ``wranglerpy dev`` session: start, banner, watch, signals, orderly stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wranglerpy.bindings import state_lock
from wranglerpy.bindings.registry import describe
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import WranglerError
from wranglerpy.host.pool import StartFailed
from wranglerpy.host.sockets import runtime_dir
from wranglerpy.logs.hub import LogHub
from wranglerpy.logs.printer import Printer
from wranglerpy.logs.tail_server import TailServer
from wranglerpy.runtime import debugger
from wranglerpy.services.server import (
    ServicesHandle,
    ServicesOptions,
    services_banner,
    start_beside,
    stop_beside,
)
from wranglerpy.supervisor.supervisor import ConfigReloader, Supervisor, SupervisorOptions
from wranglerpy.supervisor.watcher import watch
from wranglerpy.tracing.hooks import start_export, stop_export


@dataclass(frozen=True)
class DevOptions:
    supervisor: SupervisorOptions
    watch: bool = True
    log_format: str = "pretty"
    log_level: str = "log"
    services: ServicesOptions = ServicesOptions()  # the S3 + OpenAI APIs beside the workers


def banner_lines(supervisor: Supervisor) -> list[str]:
    """Each worker's bindings as wrangler 4 prints them (workers-sdk packages/deploy-helpers/
    src/deploy/helpers/print-bindings.ts: a title, then Binding / Resource / Mode columns), its
    notes, and its "Ready on URL" line."""
    lines: list[str] = []
    several = len(supervisor.workers) > 1
    for worker in supervisor.workers.values():
        config = worker.config
        rows: list[tuple[str, str, str]] = []  # (env.NAME (value), resource, mode)
        for service in config.services:
            target = supervisor.registry.lookup(service.service, service.environment)
            state = "[connected]" if target is not None else "[not connected]"
            name = service.service + (f"#{service.entrypoint}" if service.entrypoint else "")
            rows.append((f"env.{service.binding} ({name})", "Worker", f"local {state}"))
        rows += [(f"env.{b} ({target})", kind, "local") for b, kind, target in describe(config)]
        rows += [
            (f"env.{k} ({_short(v)})", "Environment Variable", "local") for k, v in config.vars
        ]
        rows += [
            (f'env.{k} ("(hidden)")', "Environment Variable", "local") for k, _ in config.secrets
        ]
        if config.assets and config.assets.binding:
            rows.append((f"env.{config.assets.binding}", "Assets", "local"))
        notes: list[str] = []
        if config.assets:
            notes.append(f"assets: {config.assets.directory}")
        placement = config.placement
        if placement and (placement.mode or placement.hint or placement.region):
            notes.append(
                "placement: "
                + (placement.mode or f"hint {placement.hint or placement.region}")
                + " (locally every binding is on this machine)"
            )
        env = f" ({config.env_name})" if config.env_name else ""
        if rows:
            who = f"{worker.name}{env}" if several else "Your Worker"
            lines.append(f"{who} has access to the following bindings:")
            table = [("Binding", "Resource", "Mode"), *rows]
            width, kind_width = (max(len(row[i]) for row in table) for i in (0, 1))
            gap = " " * 6
            for binding, kind, mode in table:
                lines.append(f"{binding.ljust(width)}{gap}{kind.ljust(kind_width)}{gap}{mode}")
            lines.append("")
        elif not several:
            lines.append("No bindings found.")
        lines.extend(f"    {note}" for note in notes)
        for warning in config.warnings:
            lines.append(f"    ▲ {warning}")
        lines.append(f"⎔ Ready on {worker.url}" + (f" ({worker.name}{env})" if several else ""))
        inspector = dict(getattr(supervisor.options, "inspector_ports", ())).get(worker.name)
        lines.extend(debugger.banner_line(worker.name, inspector, several))
    return lines


def _short(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


class StartupGate:
    """Holds the request lines of requests answered while ``dev`` starts (they were waiting on
    the already-open ports) until the ready banner is out, so the banner comes first."""

    def __init__(self, printer: Callable[[dict[str, Any]], None]) -> None:
        self._printer = printer
        self._held: list[dict[str, Any]] | None = []

    def __call__(self, event: dict[str, Any]) -> None:
        if self._held is not None and event.get("type") == "request":
            self._held.append(event)
        else:
            self._printer(event)

    def release(self) -> None:
        held, self._held = self._held or [], None
        for event in held:
            self._printer(event)


async def run_dev(
    workers: list[WorkerConfig],
    ports: dict[str, int],
    options: DevOptions,
    *,
    reload_config: ConfigReloader | None = None,
    printer: Printer | None = None,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop``); everything started here is stopped here."""
    hub = LogHub()
    printer = printer or Printer(log_level=options.log_level, log_format=options.log_format)
    for config in workers:
        printer.add_worker(config.name)
    gate = StartupGate(printer)
    hub.subscribe(gate)
    tail_path = runtime_dir() / f"tail-{os.getpid()}.sock"
    supervisor_options = replace(options.supervisor, tail_socket=tail_path)
    supervisor = Supervisor(workers, ports, hub, supervisor_options, reload_config=reload_config)
    supervisor.claim()  # a worker another live session runs: one-line error, nothing started
    dev_lock = state_lock.hold_for_workers(workers, options.supervisor.persist_dir)  # issue 18
    spans = start_export(hub)  # OTLP, when OTEL_EXPORTER_OTLP_ENDPOINT is set
    tail_server = TailServer(hub, tail_path)
    await tail_server.start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # The handler only records the signal; the loop below does the work.
        loop.add_signal_handler(sig, stop.set)
    watcher: asyncio.Task[None] | None = None
    services: asyncio.Future[ServicesHandle | None] | None = None
    try:
        try:
            seconds = await supervisor.start()
        except StartFailed as exc:
            gate.release()
            raise WranglerError(
                f"A worker process could not start ({exc}); its output is above."
            ) from None
        for line in banner_lines(supervisor):
            hub.system(line)
        # The services start once the workers serve: on a small machine their process would
        # take CPU from the workers' start (the ports answer sooner; the banner ends as soon).
        services = asyncio.ensure_future(
            start_beside(
                workers,
                options.supervisor.persist_dir,
                options.services,
                hub.system,
                tail_socket=tail_path,  # the dashboard's live events
            )
        )
        for line in await services_banner(services):
            hub.system(line)
        hub.system(f"Ready in {seconds:.2f} s. Press Ctrl-C to stop.")
        gate.release()
        if ready is not None:
            ready.set()
        if options.watch:
            watcher = asyncio.ensure_future(watch(supervisor, stop))
        await stop.wait()
    finally:
        hub.system("Shutting down…")
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher
        try:
            await asyncio.wait_for(supervisor.shutdown(), 6.0)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - leave nothing behind regardless
            supervisor.kill_all()
        await tail_server.close()
        dev_lock.release()
        if services is not None:
            await stop_beside(services)
        await stop_export(spans)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def resolve_persist(persist_to: Path | None, no_persist: bool) -> tuple[Path | None, Path | None]:
    """``(persist_dir, temp dir to delete at exit)`` from ``--persist-to`` / ``--no-persist``."""
    if no_persist:
        import tempfile

        temp = Path(tempfile.mkdtemp(prefix="wranglerpy-state-"))
        return temp, temp
    return (persist_to.resolve() if persist_to else None), None
