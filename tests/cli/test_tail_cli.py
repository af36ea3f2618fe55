"""``wranglerpy tail`` against workers on the local edge: the real CLI in a subprocess."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy.conftest import Edge, edge  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


class TailProcess:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wranglerpy", "tail", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.notices: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=self._read, args=(self.proc.stdout, self.lines), daemon=True
        ).start()
        threading.Thread(
            target=self._read, args=(self.proc.stderr, self.notices), daemon=True
        ).start()

    @staticmethod
    def _read(stream: Any, into: queue.Queue[str]) -> None:
        for line in stream:
            into.put(line.rstrip("\n"))

    def wait_notice(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.notices.get(timeout=0.1)
            except queue.Empty:
                continue
            if text in line:
                return line
        raise AssertionError(f"no notice containing {text!r}")

    def events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        found = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            try:
                found.append(json.loads(self.lines.get(timeout=0.1)))
            except queue.Empty:
                continue
        return found

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def tails() -> Iterator[list[TailProcess]]:
    started: list[TailProcess] = []
    try:
        yield started
    finally:
        for tail in started:
            tail.close()


def start(tails: list[TailProcess], *args: str) -> TailProcess:
    tail = TailProcess(*args, "--format", "json")
    tails.append(tail)
    tail.wait_notice("Tailing")
    tail.wait_notice("waiting for logs")  # printed once the subscription is in place
    return tail


def test_shared_trace_redaction_and_filters(edge: Edge, tails: list[TailProcess]) -> None:  # noqa: F811
    edge.cli("deploy", "--all", "--edge-port", "0")
    api_tail = start(tails, "pair-api", "--method", "GET", "--search", "forwarding")
    streaming_tail = start(tails, "pair-streaming")
    errors_tail = start(tails, "pair-api", "--status", "error")
    with edge.client("pair-api") as api:
        api.get("/health")  # no "forwarding" log: filtered out of api_tail
        api.post("/stream/health")  # POST: filtered out of api_tail
        api.get("/stream/sse?n=2", headers={"authorization": "Bearer s3cret", "x-api-key": "k"})
        api.get("/boom")
    (forwarded,) = api_tail.events(1)
    assert forwarded["event"]["request"]["url"].endswith("/stream/sse?n=2")
    headers = forwarded["event"]["request"]["headers"]
    assert headers["authorization"] == "REDACTED" and headers["x-api-key"] == "REDACTED"
    assert forwarded["logs"][0]["message"] == ["forwarding /stream/sse"]
    assert forwarded["outcome"] == "ok" and forwarded["wallTime"] >= 0
    inner = streaming_tail.events(2)
    assert [e["event"]["request"]["method"] for e in inner] == ["POST", "GET"]
    sse = inner[1]
    assert sse["trace"] == forwarded["trace"]  # one id across the binding
    assert sse["caller"] == "pair-api" and sse["scriptName"] == "pair-streaming"
    assert sse["logs"][0]["message"] == ["streaming 2 events"]
    (failure,) = errors_tail.events(1)
    assert failure["outcome"] == "exception"
    assert failure["exceptions"][0]["name"] == "RuntimeError"
    assert failure["exceptions"][0]["message"] == "boom from api"
    # The traceback is one exception and at most one log entry, not one entry per line.
    assert len(failure["exceptions"]) == 1 and len(failure["logs"]) <= 1, failure["logs"]
    # Nothing else passed api_tail's filters: the next event it shows is a last request sent
    # to pass them (events reach a tail in the order the edge sends them; no timed silence).
    with edge.client("pair-api") as api:
        api.get("/stream/sse?n=1")
    (last,) = api_tail.events(1)
    assert last["event"]["request"]["url"].endswith("/stream/sse?n=1"), last


def test_tail_reconnects_after_an_edge_restart(edge: Edge, tails: list[TailProcess]) -> None:  # noqa: F811
    edge.cli("deploy", "--all", "--edge-port", "0")
    tail = start(tails, "pair-api")
    edge.cli("edge", "stop")
    tail.wait_notice("Lost the connection")
    assert "`wranglerpy edge start`" in edge.cli("tail", "pair-api", ok=False)  # a new tail
    edge.cli("edge", "start", "--port", "0")
    tail.wait_notice("Reconnected")
    with edge.client("pair-api") as api:
        api.get("/health")
    (event,) = tail.events(1)
    assert event["event"]["response"]["status"] == 200


def test_tail_of_an_unknown_worker_exits_with_a_message(edge: Edge) -> None:  # noqa: F811
    result = subprocess.run(
        [sys.executable, "-m", "wranglerpy", "tail", "ghost"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert 'Worker "ghost" is not running' in result.stderr


def test_tail_a_worker_under_dev_and_pick_the_mode_when_both_run(
    edge: Edge,  # noqa: F811
    tails: list[TailProcess],
) -> None:
    import os
    from pathlib import Path

    from wranglerpy.testing import DevServer

    edge.cli("deploy", "--all", "--edge-port", "0")
    dev = DevServer("wrangler.toml", "wrangler-streaming.toml", cwd=edge.project, watch=False)
    dev.registry_dir = Path(os.environ["WRANGLERPY_REGISTRY_PATH"])  # the edge's registry
    with dev:
        both = subprocess.run(
            [sys.executable, "-m", "wranglerpy", "tail", "pair-api"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert both.returncode != 0
        assert "both under `wranglerpy dev` and on the local edge" in both.stderr
        assert "--mode dev or --mode edge" in both.stderr
        tail = start(tails, "pair-api", "--mode", "dev")
        dev.client("pair-api").get("/health")
        with edge.client("pair-api") as on_edge:
            on_edge.get("/health")  # not this one: it is the edge's
        events = tail.events(2, timeout=3.0)
    assert len(events) == 1
    assert "scriptVersion" not in events[0]  # dev runs the working copy, not a version
    assert events[0]["event"]["request"]["url"].startswith(dev.url("pair-api"))


def test_cron_triggers_on_the_edge_show_as_scheduled_events(
    edge: Edge,  # noqa: F811
    tails: list[TailProcess],
) -> None:
    edge.cli("deploy", "--all", "--edge-port", "0")
    tail = start(tails, "pair-api")
    with edge.client("pair-api") as api:
        assert api.get("/cdn-cgi/handler/scheduled").status_code == 404  # not public
    out = edge.cli("edge", "trigger", "pair-api")
    assert "'0 3 * * *'" in out
    events = tail.events(2, timeout=5.0)
    scheduled = [e for e in events if "cron" in e["event"]]
    assert len(scheduled) == 1
    assert scheduled[0]["event"]["cron"] == "0 3 * * *"
    assert scheduled[0]["logs"][0]["message"] == ["cron ran 0 3 * * *"]


def test_tail_ends_quietly_when_its_reader_goes(edge: Edge) -> None:  # noqa: F811
    edge.cli("deploy", "--all", "--edge-port", "0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wranglerpy", "tail", "pair-api", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert "Tailing" in proc.stderr.readline()
        assert "waiting for logs" in proc.stderr.readline()  # subscribed: events would come
        proc.stdout.close()  # like `wranglerpy tail ... | head -0`
        with edge.client("pair-api") as api:
            for _ in range(3):
                api.get("/health")
        assert proc.wait(10) == 0
        rest = proc.stderr.read()
        assert "Traceback" not in rest and "BrokenPipe" not in rest, rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
