"""``wranglerpy tail``: live request events of a worker running under ``dev`` or on the edge."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import typer

from wranglerpy.cli._options import WorkerConfigOption, WorkerEnvOption
from wranglerpy.cli.common import err_console, handle_errors

if TYPE_CHECKING:
    from wranglerpy.logs.tail_filter import TailFilter

# Follows a tail until ``stop`` is set, handing each event to the callback.
EventSource = Callable[[Callable[[dict[str, object]], None], asyncio.Event], Awaitable[None]]


@handle_errors
def tail(
    worker: str = typer.Argument(None, help="Worker name (default: the config's)."),
    fmt: str = typer.Option(
        None, "--format", help="json or pretty (default: pretty on a terminal, else json)."
    ),
    status: list[str] = typer.Option(None, "--status", help="ok, error or canceled (repeatable)."),
    method: list[str] = typer.Option(None, "--method", help="HTTP method (repeatable)."),
    header: list[str] = typer.Option(None, "--header", help="NAME or NAME:VALUE (repeatable)."),
    search: str = typer.Option(None, "--search", help="Text in a log message or exception."),
    ip: list[str] = typer.Option(None, "--ip", help="Client IP, or `self` (repeatable)."),
    sampling_rate: float = typer.Option(1.0, "--sampling-rate", help="Fraction of events kept."),
    mode: str = typer.Option(
        None,
        "--mode",
        help="dev or edge: needed when the worker runs under both; ray: on a Ray cluster.",
    ),
    ray_address: str = typer.Option(None, "--ray-address", help="The Ray cluster (--mode ray)."),
    config: WorkerConfigOption = None,
    env: WorkerEnvOption = None,
) -> None:
    """Stream WORKER's requests, logs and exceptions as they happen (Ctrl-C to stop)."""
    from wranglerpy.cli.deployments import worker_name
    from wranglerpy.deploy.client import running_edge
    from wranglerpy.deploy.history import DeploymentLog
    from wranglerpy.deploy.paths import EdgePaths
    from wranglerpy.errors import UsageError
    from wranglerpy.host.locations import Locations
    from wranglerpy.logs.tail_client import choose_entry, follow
    from wranglerpy.logs.tail_filter import TailFilter

    name = worker_name(worker, config, env)
    output = fmt or ("pretty" if sys.stdout.isatty() else "json")
    if output not in ("json", "pretty"):
        raise UsageError(f"--format must be json or pretty, got {fmt!r}")
    filters = TailFilter.build(
        status or (), method or (), header or (), search, ip or (), sampling_rate
    )
    if mode == "ray":
        _tail_ray(name, ray_address, filters, output)
        return
    registry = Locations()
    edge = EdgePaths.resolve()
    on_stopped_edge = (
        running_edge(edge) is None and name in DeploymentLog(edge.deployments).workers()
    )
    entry = choose_entry(registry, name, mode, on_stopped_edge)
    err_console.print(f"Tailing {name} ({entry.mode}); Ctrl-C to stop.", markup=False)

    def notice(message: str) -> None:
        err_console.print(message, markup=False)

    _print_events(
        filters,
        output,
        lambda on_event, stop: follow(registry, name, entry.mode, on_event, notice, stop),
    )


def _tail_ray(name: str, address: str | None, filters: TailFilter, output: str) -> None:
    """``tail --mode ray``: the request events of every replica of WORKER on the cluster."""
    from wranglerpy.ray.cli import follow_tail

    err_console.print(f"Tailing {name} (ray); Ctrl-C to stop.", markup=False)
    _print_events(
        filters, output, lambda on_event, stop: follow_tail(name, address, on_event, stop)
    )


def _print_events(filters: TailFilter, output: str, source: EventSource) -> None:
    """Print the events ``source`` delivers (as json or pretty), filtered, until Ctrl-C or
    until the reader of a pipe leaves."""
    from wranglerpy.logs.printer import _use_colour
    from wranglerpy.logs.tail_format import pretty, to_tail_event

    colour = _use_colour(sys.stdout)

    async def run() -> None:
        stop = asyncio.Event()

        def on_event(event: dict[str, object]) -> None:
            record = to_tail_event(event)
            if not filters.accepts(record):
                return
            text = json.dumps(record) if output == "json" else pretty(record, colour)
            try:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
            except BrokenPipeError:  # `wranglerpy tail ... | head`: the reader is done
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                stop.set()

        await source(on_event, stop)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a tail ends
        asyncio.run(run())
