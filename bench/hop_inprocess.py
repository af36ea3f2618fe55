"""CPU of one service-binding hop, both ends in this process: caller, wire and target.

    .venv/bin/python bench/hop_inprocess.py          # 2000 calls a round, 9 rounds
    CALLS=5000 ROUNDS=5 .venv/bin/python bench/hop_inprocess.py

The target is a real ``WorkerApp`` serving its unix socket; the caller is the real
``env.SVC`` (``ServiceFetcher``). Events go to /dev/null as JSON lines, as a worker sends
them to its host. The figure is the fewest CPU microseconds per call over the rounds (the
least disturbed by other load on the machine). It runs on this tree and, for before/after
figures, on a checkout from before the wire protocol (it picks whichever API it finds).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CALLS = int(os.environ.get("CALLS", "2000"))
ROUNDS = int(os.environ.get("ROUNDS", "9"))
TARGET = """
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response.json({"worker": "target", "status": "healthy"})

    async def add(self, a, b):
        return a + b
"""


async def serve(folder: Path) -> tuple[Any, Any]:
    """Start the target; return the caller's ``env.SVC`` and the target's server."""
    from wranglerpy.config.schema import ServiceBinding
    from wranglerpy.runtime.app import WorkerApp
    from wranglerpy.runtime.env import Env
    from wranglerpy.runtime.events import SocketEventSink
    from wranglerpy.runtime.service import ServiceFetcher

    main = folder / "target_worker.py"
    main.write_text(textwrap.dedent(TARGET))
    sink = SocketEventSink(os.open(os.devnull, os.O_WRONLY))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(folder / "t.sock"))
    sock.listen(64)
    try:  # this tree
        from wranglerpy.host.locations import Locations, WorkerLocation
        from wranglerpy.runtime.loader import import_worker
        from wranglerpy.wire.server import FrameServer

        app = WorkerApp("target", Env({}), import_worker(main), sink)
        server: Any = FrameServer(app.wire_handlers())
        await server.start(sock)
        registry = Locations(folder / "registry")
        registry.register(
            WorkerLocation(
                "target", "target", None, str(sock.getsockname()), "http://t", os.getpid()
            )
        )
    except ImportError:  # before the wire protocol
        from wranglerpy.registry.dev_registry import DevRegistry, WorkerEntry  # type: ignore
        from wranglerpy.runtime.binding_server import BindingServer  # type: ignore

        from wranglerpy.runtime.loader import load_worker  # type: ignore

        app = WorkerApp("target", Env({}), load_worker(main), sink, token="tok")  # type: ignore
        server = BindingServer(app)
        await server.start(sock)
        registry = DevRegistry(folder / "registry")
        registry.register(
            WorkerEntry(
                "target", "target", None, str(sock.getsockname()), "http://t", "tok", os.getpid()
            )
        )
    return ServiceFetcher(ServiceBinding("SVC", "target"), "caller", registry), server


async def rounds(call: Any) -> float:
    for _ in range(200):
        await call()
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(CALLS):
            await call()
        best = min(best, (time.process_time() - started) / CALLS)
    return best * 1e6


async def main() -> None:
    sys.path.insert(0, str(ROOT / "wranglerpy" / "runtime" / "shim"))  # `workers`, as in a worker
    with tempfile.TemporaryDirectory(prefix="hop-", dir="/tmp") as tmp:
        svc, server = await serve(Path(tmp))

        async def fetch() -> None:
            response = await svc.fetch("http://target/health")  # a binding needs a host
            await response.bytes()

        async def rpc() -> None:
            assert await svc.add(2, 3) == 5

        fetch_us, rpc_us = await rounds(fetch), await rounds(rpc)
        await svc.aclose()
        await server.close(grace=1.0)
    print(f"{CALLS} calls a round, best of {ROUNDS} rounds (CPU µs per call, both ends)")
    print(f"service-binding fetch: {fetch_us:8.1f}")
    print(f"RPC:                   {rpc_us:8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
