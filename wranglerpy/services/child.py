"""The services process: ``python -m wranglerpy.services.child <fd>`` with the spec as one JSON
line on stdin. Serves the S3 and OpenAI APIs with hypercorn on the inherited socket until
SIGTERM or until stdin closes (the parent stopped it, or is gone)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

from wranglerpy.services.app import ServicesApp
from wranglerpy.services.spec import ServicesSpec

READY = "wranglerpy-services ready"


async def _serve(spec: ServicesSpec, fd: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def on_stdin() -> None:
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    app = ServicesApp(spec)
    config = HypercornConfig()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    config.loglevel = "ERROR"
    config.graceful_timeout = 3.0

    async def stopping() -> None:
        await stop.wait()
        app.dashboard.feed.end_streams()  # open event streams end, so shutdown need not wait

    print(READY, flush=True)
    try:
        await serve(app, config, shutdown_trigger=stopping)  # type: ignore[arg-type]
    finally:
        app.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("hypercorn.access").disabled = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    spec = ServicesSpec.from_json(sys.stdin.buffer.readline().decode())
    from wranglerpy.runtime.child import run_event_loop

    run_event_loop(_serve(spec, int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
