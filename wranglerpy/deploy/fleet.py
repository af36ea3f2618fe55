"""One deployed version of one worker on the edge: its socket, its processes, its client.

A version gets its own unix socket (frame calls from the router, service bindings and crons;
see ``wranglerpy.wire``) and a ``WorkerPool`` of ``processes`` workers on it; the kernel
spreads connections across them. A new version gets a new fleet, so the old one can drain
on its own socket while the router and bindings already use the new one.
"""

from __future__ import annotations

from functools import partial

from wranglerpy.deploy.versions import Version
from wranglerpy.errors import DeployError
from wranglerpy.host.pool import Spares, StartFailed, WorkerPool
from wranglerpy.host.process import WorkerProcess
from wranglerpy.host.sockets import FrameSocket
from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime.spec import WorkerSpec


class Fleet:
    def __init__(
        self,
        version: Version,
        spec: WorkerSpec,
        processes: int,
        hub: LogHub,
    ) -> None:
        self.version = version
        self.spec = spec
        self.name = spec.config.name
        # Seconds the router waits before each request (--simulate-latency's client leg).
        self.client_delay = spec.latency.client_ms / 1000 if spec.latency is not None else 0.0
        self.frames = FrameSocket(f"edge-{self.name}")
        self.client = self.frames.client
        self.pool = WorkerPool(
            self.name,
            [self.frames.sock.fileno()],
            hub,
            size=processes,
            require_clean_load=True,
            tag={"version": version.id},
            # The router owns the public port: these processes serve frames only.
            spares=Spares(partial(WorkerProcess, http=False), keep=0),
        )

    async def start(self) -> None:
        """Start every process; a process that fails or code that does not load: DeployError."""
        try:
            await self.pool.start(self.spec)
        except StartFailed as exc:
            self.frames.close()
            if exc.detail:
                raise DeployError(
                    f'Worker "{self.name}" failed to load; nothing was switched.\n{exc.detail}'
                ) from None
            raise DeployError(str(exc)) from None

    async def stop(self, grace: float = 5.0) -> None:
        await self.pool.stop(grace)
        self.frames.close()

    async def drain_and_stop(self, settle: float = 0.5) -> None:
        """Let the router's requests finish (bounded by the drain time), then stop."""
        await self.pool.drain_and_stop(settle=settle, limit=self.spec.drain_seconds)
        self.frames.close()
