import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from wranglerpy.runtime.app import WorkerApp
from wranglerpy.runtime.child import SHIM_DIR
from wranglerpy.runtime.console import LineWriter
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.events import ListEventSink
from wranglerpy.runtime.loader import WorkerLoadError, load_worker


class AppHarness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sink = ListEventSink()
        self.counter = 0

    def build(
        self,
        source: str,
        env: dict | None = None,
        token: str = "tok",
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
            loaded = load_worker(main, compatibility_date)
        except WorkerLoadError as exc:
            error = exc
        self.app = WorkerApp(
            "test-worker",
            Env(env or {"GREETING": "hi"}),
            loaded,
            self.sink,
            token=token,
            load_error=error,
            **kwargs,
        )
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://worker.test"
        )

    def requests(self) -> list[dict]:
        return [e for e in self.sink.events if e["type"] == "request"]


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppHarness:
    harness = AppHarness(tmp_path)
    # As in a worker process: `workers` resolves to the shim, print() becomes log events.
    monkeypatch.syspath_prepend(str(SHIM_DIR))
    harness.monkeypatch = monkeypatch
    return harness
