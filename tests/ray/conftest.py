"""A real worker as a Ray replica's class, without a cluster: ``WorkerReplica`` built in this
process, and a stand-in for the deployment handle that calls it as Ray would (a streaming
generator per call, ``cancel()`` when the caller gives up)."""

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.config.load import load_worker
from wranglerpy.ray.replica import WorkerReplica
from wranglerpy.runtime.spec import WorkerSpec


class Generator:
    """What ``handle.options(stream=True).call.remote(...)`` returns: the replica's generator
    runs in its own task (as in the replica's process), ``cancel()`` cancels that task."""

    def __init__(self, agen: Any) -> None:
        self.agen = agen
        self.cancelled = False
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        try:
            async for item in self.agen:
                self.queue.put_nowait(("item", item))
        except Exception as exc:  # noqa: BLE001 - handed to the reader, as Ray does
            self.queue.put_nowait(("error", exc))
        self.queue.put_nowait(("end", None))

    def __aiter__(self) -> "Generator":
        return self

    async def __anext__(self) -> bytes:
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        kind, value = await self.queue.get()
        if kind == "end":
            raise StopAsyncIteration
        if kind == "error":
            raise value
        return value

    def cancel(self) -> None:
        self.cancelled = True
        if self.task is not None:
            self.task.cancel()


class StandInHandle:
    def __init__(self, replica: WorkerReplica) -> None:
        self.replica = replica
        self.calls: list[Generator] = []

    def options(self, stream: bool = False) -> "StandInHandle":
        assert stream
        return self

    @property
    def call(self) -> "StandInHandle":
        return self

    def remote(self, head: bytes, body: bytes | None, *extra: Any) -> Generator:
        generator = Generator(self.replica.call(head, body, *extra))
        self.calls.append(generator)
        return generator


class Remote:
    """``actor.method.remote(...)`` of a local object: an awaitable, as Ray's ObjectRef is."""

    def __init__(self, method: Any) -> None:
        self.method = method

    def remote(self, *args: Any) -> Any:
        return asyncio.ensure_future(self.method(*args))


class StandInInbox:
    """The inbox actor (``ray/inbox.py``) in this process, called as Ray would."""

    def __init__(self) -> None:
        from wranglerpy.ray.inbox import Inbox

        self.inbox = Inbox()
        self.puts = 0
        self.put = Remote(self._put)
        self.take = Remote(self.inbox.take)
        self.drop = Remote(self._drop)

    async def _put(self, conn: str, item: bytes | None) -> None:
        self.puts += 1
        await self.inbox.put(conn, item)

    async def _drop(self, conn: str) -> None:
        self.inbox.drop(conn)


def make_replica(tmp_path: Path, source: str, toml: str = "", name: str = "target"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "worker.py").write_text(textwrap.dedent(source))
    (folder / "wrangler.toml").write_text(
        f'name = "{name}"\nmain = "worker.py"\ncompatibility_date = "2025-10-01"\n'
        f'compatibility_flags = ["python_workers"]\n{toml}'
    )
    config = load_worker(folder / "wrangler.toml")
    spec = WorkerSpec(config, tmp_path / "state", tmp_path / "registry", mode="edge")
    return folder, spec.encode()


@pytest.fixture
def replica_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Build a replica of a worker from its source, as a Ray worker process would (its
    folder is the working directory)."""

    def build(source: str, toml: str = "", services: dict[str, str] | None = None):
        folder, spec = make_replica(tmp_path, source, toml)
        monkeypatch.chdir(folder)
        return WorkerReplica(spec, str(folder), services or {}, capture_output=False)

    return build
