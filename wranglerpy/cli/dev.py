"""``wranglerpy dev``: every worker up on its own port, bindings wired, hot reload on."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from typing import Any, TextIO

import typer

from wranglerpy.cli._options import (
    ConfigsOption,
    EnvOption,
    KVBackendOption,
    PersistOption,
    R2BackendOption,
    ServicesFlag,
    ServicesPortOption,
)
from wranglerpy.cli.common import handle_errors, resolve_configs
from wranglerpy.errors import UsageError

LOG_LEVELS = ("debug", "info", "log", "warn", "error", "none")


def _parse_vars(pairs: list[str]) -> tuple[tuple[str, object], ...]:
    parsed: list[tuple[str, object]] = []
    for pair in pairs:
        key, sep, value = pair.partition(":")
        if not sep or not key:
            raise UsageError(f"--var expects KEY:VALUE, got {pair!r}")
        parsed.append((key, value))
    return tuple(parsed)


def _inspector_ports(
    names: list[str], first: int | None, http_ports: dict[str, int]
) -> dict[str, int]:
    """``--inspector-port N``: worker k's debugpy port is N + k (checked before anything runs)."""
    from wranglerpy.runtime import debugger

    if first is None:
        return {}
    if not 1 <= first <= 65535 - (len(names) - 1):
        raise UsageError(f"--inspector-port must leave room for {len(names)} port(s), got {first}")
    if not debugger.available():
        raise UsageError(f"--inspector-port needs debugpy: {debugger.EXTRA}")
    ports = debugger.assign(names, first)
    clash = debugger.ports_in_use(ports, http_ports)
    if clash:
        raise UsageError(
            f"--inspector-port {first}: port {ports[clash[0]]} ({clash[0]}'s debugger) is also "
            "a worker's HTTP port; choose another"
        )
    for name, port in ports.items():
        if not debugger.port_free(port):
            raise UsageError(
                f"--inspector-port {first}: port {port} ({name}'s debugger) is in use on "
                f"{debugger.HOST}; choose another"
            )
    return ports


async def with_hotkeys(
    run: Any,
    workers: list[Any],
    ports: dict[str, int],
    options: Any,
    reload_config: Any,
    url: Callable[[], str | None],
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    """``run_dev`` with wrangler's hotkeys once it is ready (on an interactive terminal only);
    the terminal's mode is restored however it ends."""
    from wranglerpy.cli.hotkeys import Hotkeys

    ready, stop = asyncio.Event(), asyncio.Event()
    keys = Hotkeys(url, stop.set, stdin=stdin or sys.stdin, stdout=stdout or sys.stdout)

    async def when_ready() -> None:
        await ready.wait()
        keys.start()

    waiter = asyncio.ensure_future(when_ready())
    try:
        await run(workers, ports, options, reload_config=reload_config, ready=ready, stop=stop)
    finally:
        waiter.cancel()
        keys.restore()


@handle_errors
def dev(
    config: ConfigsOption = None,
    env: EnvOption = None,
    port: int = typer.Option(
        None, "--port", help="Port of the first worker (default [dev] port or 8787)."
    ),
    worker_port: list[str] = typer.Option(
        None,
        "--worker-port",
        help="NAME=PORT: move one worker (repeatable; NAME * for every worker not named, "
        "PORT 0 for any free port). wranglerpy extension: wrangler runs one worker per dev.",
    ),
    ip: str = typer.Option(
        None, "--ip", help="Address to listen on (default [dev] ip or 127.0.0.1)."
    ),
    persist_to: PersistOption = None,
    no_persist: bool = typer.Option(
        False, "--no-persist", help="Keep state in a throw-away temporary folder."
    ),
    var: list[str] = typer.Option(
        None, "--var", help="Extra var KEY:VALUE (repeatable); overrides [vars]."
    ),
    apply_migrations: bool = typer.Option(
        True,
        "--apply-migrations/--no-apply-migrations",
        help="Apply pending D1 migrations (migrations_dir) to the local databases at start.",
    ),
    watch: bool = typer.Option(
        True, "--watch/--no-watch", help="Reload workers when their files change."
    ),
    log_level: str = typer.Option("log", "--log-level", help="debug|info|log|warn|error|none"),
    log_format: str = typer.Option("pretty", "--log-format", help="pretty|json"),
    local: bool = typer.Option(
        True, "--local/--remote", help="Always local; --remote is not supported."
    ),
    inspector_port: int = typer.Option(
        None,
        "--inspector-port",
        help="Let a debugger (debugpy, e.g. VS Code) attach: worker k listens on this port + k "
        "(needs the debug extra).",
    ),
    services: ServicesFlag = True,
    services_port: ServicesPortOption = None,
    http_limit: list[str] = typer.Option(
        None,
        "--http-limit",
        help="KEY=VALUE (repeatable): header_timeout, body_timeout, idle_timeout (seconds), "
        "max_connections (per worker port), max_body (bytes, default 100 MB as Cloudflare), "
        "max_head (bytes); wranglerpy extension.",
    ),
    kv_backend: KVBackendOption = None,
    r2_backend: R2BackendOption = None,
) -> None:
    """Run every worker locally, each on its own port, with its bindings and hot reload."""
    from dataclasses import replace

    from wranglerpy.config.load import load_worker
    from wranglerpy.config.plan import assign_ports, parse_worker_ports
    from wranglerpy.config.schema import WorkerConfig
    from wranglerpy.host.cron import Cron
    from wranglerpy.host.http_limits import parse_limits
    from wranglerpy.host.sockets import port_is_free
    from wranglerpy.services.server import ServicesOptions
    from wranglerpy.state.backends import activate
    from wranglerpy.supervisor.session import DevOptions, resolve_persist, run_dev
    from wranglerpy.supervisor.supervisor import SupervisorOptions

    if not local:
        raise UsageError("--remote is not supported: wranglerpy runs everything on this machine.")
    if log_level not in LOG_LEVELS:
        raise UsageError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    if log_format not in ("pretty", "json"):
        raise UsageError(f"--log-format must be pretty or json, got {log_format!r}")
    paths = resolve_configs(config)
    extra_vars = _parse_vars(var or [])
    workers = []
    for path in paths:
        worker = load_worker(path, env)
        if extra_vars:
            merged = dict(worker.vars)
            merged.update(dict(extra_vars))
            worker = replace(worker, vars=tuple(merged.items()))
        workers.append(worker)
    for worker in workers:
        for expression in worker.triggers.crons:
            Cron.parse(expression)  # a bad cron is a config error before anything starts
    names = [w.name for w in workers]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise UsageError(
            f"Two configs define the same worker name: {', '.join(sorted(duplicates))}"
        )
    listen_ip = ip or workers[0].dev.ip or "127.0.0.1"
    overrides = parse_worker_ports(worker_port or [], names)
    ports = assign_ports(workers, port, lambda p: port_is_free(listen_ip, p), overrides)
    inspectors = _inspector_ports(names, inspector_port, ports)
    persist_dir, temp_dir = resolve_persist(persist_to, no_persist)
    backends = activate(kv_backend, r2_backend)  # checked before any worker starts
    if backends.kv or backends.r2:
        typer.echo(f"State backends: {backends.describe()}")

    def reload_config(current: WorkerConfig) -> WorkerConfig:
        fresh = load_worker(current.config_path, current.env_name)
        if extra_vars:
            merged = dict(fresh.vars)
            merged.update(dict(extra_vars))
            fresh = replace(fresh, vars=tuple(merged.items()))
        return fresh

    options = DevOptions(
        supervisor=SupervisorOptions(
            ip=listen_ip,
            persist_dir=persist_dir,
            apply_migrations=apply_migrations,
            log_level="debug" if log_level == "debug" else "info",
            http_limits=parse_limits(http_limit or []),
            inspector_ports=tuple(inspectors.items()),
        ),
        watch=watch,
        log_format=log_format,
        log_level=log_level,
        services=ServicesOptions(enabled=services, port=services_port),
    )

    def first_url() -> str | None:  # the first worker's, as wrangler's [b] opens its own
        from wranglerpy.host.locations import Locations

        entry = Locations(options.supervisor.registry_dir).get(names[0], "dev")
        return entry.url if entry is not None else None

    try:
        asyncio.run(with_hotkeys(run_dev, workers, ports, options, reload_config, first_url))
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
