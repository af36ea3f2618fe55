"""Worker process of an edge started with ``--simulate-latency``.

The runtime's own worker process (``wranglerpy.runtime.child``), with one difference: the
storage and AI bindings it builds are wrapped by the latency model for the worker's
placement (see ``latency``). The runtime builds bindings through
``wranglerpy.bindings.registry.build_storage_bindings``; this entry point wraps that function
in this process only, before the worker is loaded.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.deploy.latency import delay_bindings, model_for
from wranglerpy.supervisor.process import WorkerProcess

MODULE = "wranglerpy.deploy.edge_child"


def binding_kinds(config: WorkerConfig) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for kind in ("kv_namespaces", "d1_databases", "r2_buckets", "analytics_engine_datasets"):
        for binding in getattr(config, kind):
            kinds[binding.binding] = kind
    if config.ai:
        kinds[config.ai.binding] = "ai"
    return kinds


def with_latency(build: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def build_delayed(
        worker: WorkerConfig, persist_dir: Path, on_error: Any = None
    ) -> dict[str, Any]:
        built = build(worker, persist_dir, on_error)
        return delay_bindings(built, binding_kinds(worker), model_for(worker.placement))

    return build_delayed


class LatencyWorkerProcess(WorkerProcess):
    """A WorkerProcess that runs this module instead of the runtime's child module."""

    async def spawn(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._control = parent_end
        self._warm = loop.create_future()
        self._ready = loop.create_future()
        self.exited = loop.create_future()
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            MODULE,
            str(child_end.fileno()),
            pass_fds=(child_end.fileno(),),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            env=env,
        )
        child_end.close()
        reader, self._writer = await asyncio.open_unix_connection(sock=parent_end)
        self._tasks = [
            asyncio.ensure_future(self._read_events(reader)),
            asyncio.ensure_future(self._read_output(self.proc.stdout, "log")),
            asyncio.ensure_future(self._read_output(self.proc.stderr, "error")),
            asyncio.ensure_future(self._wait_exit()),
        ]


def main(argv: list[str]) -> int:
    from wranglerpy.bindings import registry
    from wranglerpy.runtime import child

    registry.build_storage_bindings = with_latency(registry.build_storage_bindings)
    return child.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
