import shutil
import socket
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from wranglerpy.runtime.app import WorkerApp
from wranglerpy.runtime.child import SHIM_DIR
from wranglerpy.runtime.console import LineWriter
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.events import ListEventSink
from wranglerpy.runtime.loader import WorkerLoadError, import_worker
from wranglerpy.wire.server import FrameServer


class AppHarness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sink = ListEventSink()
        self.counter = 0
        self.cleanup: list = []
        self.server: FrameServer | None = None

    def build(
        self,
        source: str,
        env: dict | None = None,
        compatibility_date: str | None = None,
        **kwargs,
    ) -> httpx.AsyncClient:
        self.counter += 1
        # Set here, in the test's call phase: pytest swaps sys.stdout between phases.
        self.monkeypatch.setattr(sys, "stdout", LineWriter(self.sink, "test-worker", "log"))
        folder = self.tmp_path / f"w{self.counter}"
        folder.mkdir()
        main = folder / f"worker_{self.counter}.py"
        main.write_text(textwrap.dedent(source))
        loaded, error = None, None
        try:
            loaded = import_worker(main, compatibility_date)
        except WorkerLoadError as exc:
            error = exc
        self.app = WorkerApp(
            "test-worker",
            Env(env or {"GREETING": "hi"}),
            loaded,
            self.sink,
            load_error=error,
            **kwargs,
        )
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://worker.test"
        )

    async def serve_wire(self) -> str:
        """Serve the app's frame handlers on a real unix socket; returns its path."""
        folder = Path(tempfile.mkdtemp(prefix="wpy-", dir="/tmp"))
        self.cleanup.append(lambda: shutil.rmtree(folder, ignore_errors=True))
        path = str(folder / "w.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(16)
        self.server = FrameServer(self.app.wire_handlers())
        await self.server.start(sock)
        return path

    def requests(self) -> list[dict]:
        return [e for e in self.sink.events if e["type"] == "request"]


@pytest.fixture
async def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AppHarness]:
    harness = AppHarness(tmp_path)
    # As in a worker process: `workers` resolves to the shim, print() becomes log events.
    monkeypatch.syspath_prepend(str(SHIM_DIR))
    harness.monkeypatch = monkeypatch
    yield harness
    if harness.server is not None:
        await harness.server.close(grace=1.0)
    for step in harness.cleanup:
        step()
