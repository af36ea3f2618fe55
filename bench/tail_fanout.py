"""CPU the tail server costs its process per event and connected client.

    .venv/bin/python bench/tail_fanout.py        # CLIENTS=1,4 EVENTS=20000 ROUNDS=5

A real ``TailServer`` on a unix socket in this process, and CLIENTS readers in their own
processes (as ``wranglerpy tail`` and the dashboard's feed are), reading every line. Each
event is published from the loop and the loop is given one turn after it, as a worker host
does between requests. The figure is this process's CPU per event (best of ROUNDS, the least
disturbed by other load), minus the same loop with nobody connected: what the clients cost.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wranglerpy.logs.hub import LogHub  # noqa: E402
from wranglerpy.logs.tail_server import TailServer  # noqa: E402

CLIENTS = [int(n) for n in os.environ.get("CLIENTS", "1,4").split(",")]
EVENTS = int(os.environ.get("EVENTS", "20000"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
READER = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"{}\\n")
while s.recv(1 << 16):
    pass
"""
EVENT = {
    "type": "request",
    "worker": "api",
    "method": "GET",
    "url": "http://127.0.0.1:8787/health",
    "status": 200,
    "ms": 0.4,
    "trace": "0af7651916cd43dd8448eb211c80319c",
}


async def cpu_per_event(hub: LogHub) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(EVENTS):
            hub.publish(dict(EVENT))
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        best = min(best, (time.process_time() - start) / EVENTS * 1e6)
    return best


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tail.sock"
        hub = LogHub()
        server = TailServer(hub, path)
        await server.start()
        alone = await cpu_per_event(hub)
        print(f"{EVENTS} events a round, best of {ROUNDS}; CPU us per event in the server")
        print(f"nobody connected: {alone:.2f}")
        for clients in CLIENTS:
            readers = [
                subprocess.Popen([sys.executable, "-c", READER, str(path)]) for _ in range(clients)
            ]
            while len(server._clients) < clients:  # noqa: SLF001 - the bench waits for its readers
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # their hello lines are read
            used = await cpu_per_event(hub)
            print(f"{clients} client(s): {used:.2f} ({(used - alone) / clients:.2f} per client)")
            for reader in readers:
                reader.terminate()
                reader.wait()
            while server._clients:  # noqa: SLF001
                await asyncio.sleep(0.05)
        await server.close()


if __name__ == "__main__":
    asyncio.run(main())
