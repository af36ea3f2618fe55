"""The services process: ``python -m wranglerpy.services.child <fd>`` with the spec as one JSON
line on stdin. Serves the S3 and OpenAI APIs on the inherited socket (with the worker HTTP server,
``host/http_server``: uvicorn and its limits) until SIGTERM or until stdin closes (the parent
stopped it, or is gone)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.host.http_server import serve
from wranglerpy.runtime.child import StopRequest
from wranglerpy.services.app import ServicesApp
from wranglerpy.services.spec import READY, ServicesSpec


async def _serve(spec: ServicesSpec, fd: int) -> None:
    loop = asyncio.get_running_loop()
    stopping = StopRequest()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.request)

    def on_stdin() -> None:
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(sys.stdin.fileno())
            stopping.request()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    app = ServicesApp(spec)

    async def end_streams() -> None:
        await stopping.requested.wait()
        app.dashboard.feed.end_streams()  # open event streams end, so shutdown need not wait

    ender = asyncio.ensure_future(end_streams())
    print(READY, flush=True)
    try:
        await serve(app, fd, stopping, HttpLimits(), drain_seconds=3.0)
    finally:
        ender.cancel()
        app.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    spec = ServicesSpec.from_json(sys.stdin.buffer.readline().decode())
    from wranglerpy.runtime.child import run_event_loop

    run_event_loop(_serve(spec, int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
