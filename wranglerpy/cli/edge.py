"""``wranglerpy edge start|stop|status``: the local edge daemon that serves deployed workers."""

from __future__ import annotations

from pathlib import Path

import typer

from wranglerpy.cli._options import (
    KVBackendOption,
    R2BackendOption,
    ServicesFlag,
    ServicesPortOption,
    StateDirOption,
)
from wranglerpy.cli.common import handle_errors
from wranglerpy.services.info import ServicesInfo

app = typer.Typer(help="The local edge: serves deployed workers on one port.", no_args_is_help=True)


@app.command("start")
@handle_errors
def start(
    port: int = typer.Option(
        None, "--port", help="Public port (default: the last one used, else 8080; 0: any free)."
    ),
    ip: str = typer.Option(None, "--ip", help="Address to listen on (default 127.0.0.1)."),
    processes: int = typer.Option(
        None, "--processes", help="Worker processes per deployed worker (default 1)."
    ),
    persist_to: Path = typer.Option(
        None,
        "--persist-to",
        help="KV/D1/R2/AE state of deployed workers (default <state-dir>/state).",
    ),
    simulate_latency: bool = typer.Option(
        False,
        "--simulate-latency",
        help="Add the round trips placement implies (smart: near data; off: near the client).",
    ),
    state_dir: StateDirOption = None,
    http_limit: list[str] = typer.Option(
        None,
        "--http-limit",
        help="KEY=VALUE (repeatable): header_timeout, body_timeout, idle_timeout (seconds), "
        "max_connections, max_body (bytes, default 100 MB as Cloudflare), max_head (bytes).",
    ),
    kv_backend: KVBackendOption = None,
    r2_backend: R2BackendOption = None,
    services: ServicesFlag = True,
    services_port: ServicesPortOption = None,
) -> None:
    """Start the local edge in the background (no-op when it already runs)."""
    from wranglerpy.deploy.client import start_edge
    from wranglerpy.deploy.paths import EdgePaths
    from wranglerpy.state.backends import activate

    backends = activate(kv_backend, r2_backend)  # the edge daemon and its workers inherit them
    if backends.kv or backends.r2:
        typer.echo(f"State backends: {backends.describe()}")
    paths = EdgePaths.resolve(state_dir)
    status, started = start_edge(
        paths,
        ip=ip or "127.0.0.1",
        port=port,
        processes=processes or 1,
        persist_to=persist_to,
        simulate_latency=simulate_latency,
        http_limits=http_limit or [],
        services=services,
        services_port=services_port,
    )
    verb = "Started" if started else "Already running:"
    typer.echo(f"{verb} local edge on {status.url} (pid {status.pid})")
    state = status.status()  # what it runs with, from the daemon itself
    if not started:
        wanted = {"--port": port, "--ip": ip, "--processes": processes}
        wanted["--simulate-latency"] = simulate_latency or None  # only when asked for
        running = {"--port": state.port, "--ip": state.ip, "--processes": state.processes}
        running["--simulate-latency"] = state.simulate_latency
        differ = [
            f"{flag} {running[flag]} (asked: {value})"
            for flag, value in wanted.items()
            if value is not None and value != running[flag] and not (flag == "--port" and not value)
        ]
        if kv_backend or r2_backend:
            differ.append("--kv-backend/--r2-backend (set when it started)")
        differ += services_differ(state.services, services, services_port)
        if differ:
            typer.echo(
                "▲ The running edge keeps its options: " + ", ".join(differ) + ". "
                "Run `wranglerpy edge stop` first to start it with new ones."
            )
    if state.simulate_latency:
        typer.echo(
            "Simulating placement latency: off = +100 ms per KV/D1/R2/AI call; "
            "smart = +3 ms per call and +60 ms client round trip."
        )


def services_differ(running: ServicesInfo | None, services: bool, port: int | None) -> list[str]:
    """The services flags a running edge does not have, from where its services serve
    (``running`` None: not settled yet, nothing is said; ``port`` 0: any port will do)."""
    if running is None or not running.running:
        return []
    if not services:
        return ["--no-services (its services run)"]
    if port and port != running.port:
        return [f"--services-port {port} (its services run on port {running.port})"]
    return []


@app.command("stop")
@handle_errors
def stop(state_dir: StateDirOption = None) -> None:
    """Stop the local edge (its workers stop with it; deployments are kept)."""
    from wranglerpy.deploy.client import stop_edge
    from wranglerpy.deploy.paths import EdgePaths

    pid = stop_edge(EdgePaths.resolve(state_dir))
    typer.echo(f"Stopped local edge (pid {pid})" if pid else "The local edge is not running.")


@app.command("status")
@handle_errors
def status(state_dir: StateDirOption = None) -> None:
    """Whether the edge runs, where, and which version each worker serves."""
    from wranglerpy.deploy.client import running_edge
    from wranglerpy.deploy.paths import EdgePaths

    paths = EdgePaths.resolve(state_dir)
    edge = running_edge(paths)
    if edge is None:
        typer.echo(f"The local edge is not running (state: {paths.root}).")
        raise typer.Exit(1)
    info = edge.status()
    typer.echo(f"Local edge on {edge.url} (pid {edge.pid}), state {paths.root}")
    if info.services is not None:
        for line in info.services.banner_lines():
            typer.echo(f"  {line}")
        if info.services.error:
            typer.echo(f"  ✘ {info.services.error}")
    if info.simulate_latency:
        typer.echo("  simulating placement latency (--simulate-latency)")
    for name, worker in sorted(info.workers.items()):
        where = worker.url or ", ".join(worker.routes) or "internal"
        placement = f"  placement: {worker.placement}" if worker.placement else ""
        typer.echo(
            f"  {name}  version {worker.version[:12]}  {len(worker.processes)} process(es)"
            f"  {where}{placement}"
        )


@app.command("trigger")
@handle_errors
def trigger(
    worker: str = typer.Argument(..., help="A deployed worker."),
    cron: str = typer.Option(
        None, "--cron", help="The cron passed to the handler (default: its first)."
    ),
    state_dir: StateDirOption = None,
) -> None:
    """Run WORKER's scheduled handler now, as its cron trigger would (see `wranglerpy tail`)."""
    from wranglerpy.deploy.client import running_edge
    from wranglerpy.deploy.paths import EdgePaths
    from wranglerpy.errors import DeployError

    edge = running_edge(EdgePaths.resolve(state_dir))
    if edge is None:
        raise DeployError("The local edge is not running: `wranglerpy edge start` first.")
    ran = edge.trigger(worker, cron)
    typer.echo(f"Ran the scheduled handler of {worker} (cron {ran or '(none)'!r}).")
