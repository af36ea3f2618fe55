"""A real services process (``start_services``) on a free port, driven from a background
event loop so the tests can use synchronous clients (boto3, openai)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from wranglerpy.services.server import ServicesHandle, start_services
from wranglerpy.services.spec import ServicesSpec

T = TypeVar("T")


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.close()


def serve(runner: LoopThread, spec: ServicesSpec) -> Iterator[ServicesHandle]:
    lines: list[str] = []
    handle = runner.run(start_services(spec, 0, log=lines.append))
    try:
        yield handle
    finally:
        runner.run(handle.stop())
    assert not [line for line in lines if "Traceback" in line], lines


@pytest.fixture(scope="module")
def persist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def services(loop_thread: LoopThread, persist_dir: Path) -> Iterator[ServicesHandle]:
    spec = ServicesSpec(persist_dir, buckets=("configured-bucket",))
    yield from serve(loop_thread, spec)
