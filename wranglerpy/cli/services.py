"""``wranglerpy services``: the local S3 API and OpenAI-compatible API without ``dev`` (the
same process ``dev`` and the edge start beside their workers)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from wranglerpy.cli._options import ConfigOption, EnvOption, PersistOption
from wranglerpy.cli.common import handle_errors

PortOption = Annotated[
    int | None,
    typer.Option("--port", help="127.0.0.1 port (default 8990 if free, else any; 0: any)."),
]


@handle_errors
def services(
    config: ConfigOption = None,
    env: EnvOption = None,
    persist_to: PersistOption = None,
    port: PortOption = None,
) -> None:
    """Serve the local R2 buckets over S3 and the local models over OpenAI's API until Ctrl-C."""
    from wranglerpy.cli.local_state import resolve_target
    from wranglerpy.services.server import start_services
    from wranglerpy.services.spec import spec_for

    target = resolve_target(config, env, persist_to, False, need_config=False)
    spec = spec_for([target.config] if target.config else [], target.persist_dir)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        handle = await start_services(spec, port, log=typer.echo)
        try:
            for line in handle.banner_lines():
                typer.echo(line)
            typer.echo(f"State: {spec.persist_dir}. Press Ctrl-C to stop.")
            await stop.wait()
        finally:
            await handle.stop()

    asyncio.run(main())
