"""The dashboard in a real headless Chromium, against a real `wranglerpy dev` of two workers.

browser/dashboard_page.mjs drives Debian's Chromium with playwright-core (no browser download,
as tests/examples/test_iui_chat_page_browser.py does): once the page's live stream is open it
sends a request to the front worker, waits (on the DOM) for it and its service-binding hop to
the back worker to appear, opens their trace's waterfall, then a D1 table's rows and the SQL
console's refusal of a write. browser/state_pages.mjs opens the KV, R2, Durable Object, queue
and workflow browsers over a state folder full of hostile keys. The screenshots stay in test-artifacts/dashboard/ for CI to keep.
`.ci/run` installs Chromium and playwright-core.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.services.dashboard.conftest import HOSTILE, KEYS, Dashboard
from wranglerpy.testing import DevServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "project"
BROWSER = HERE / "browser"
ARTIFACTS = Path(os.environ.get("WRANGLERPY_TEST_ARTIFACTS", HERE.parents[2] / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")
BANNER = re.compile(r"Dashboard .* on (http://127\.0\.0\.1:\d+/_dashboard/)")


def need_browser() -> None:
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    if NODE is None or not (BROWSER / "node_modules" / "playwright-core").is_dir():
        pytest.skip(
            "playwright-core is not installed (cd tests/services/dashboard/browser && npm install)"
        )


def run_page(script: str, *args: str) -> dict[str, Any]:
    """Run one of browser/*.mjs; what it printed (JSON)."""
    shots = ARTIFACTS / "dashboard"
    result = subprocess.run(
        [str(NODE), str(BROWSER / script), *args, str(shots)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BROWSER,
        env={"PATH": "/usr/bin:/bin", "CHROMIUM": str(CHROMIUM), "HOME": str(shots.parent)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def shots() -> Path:
    folder = ARTIFACTS / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP receiver that takes every post: with an endpoint set, workers record their
    binding calls (KV, D1, ...) as child spans, which the waterfall shows too."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory):
    need_browser()
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    try:
        with DevServer(
            PROJECT / "front" / "wrangler.toml",
            PROJECT / "back" / "wrangler.toml",
            persist_to=tmp_path_factory.mktemp("state"),
            watch=False,
            services=True,
            extra_args=["--services-port", "0"],
            environ={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
            timeout=120,
        ) as server:
            yield server
    finally:
        collector.shutdown()
        collector.server_close()


def test_the_dashboard_shows_a_live_request_its_trace_and_a_d1_table(
    dev: DevServer, shots: Path
) -> None:
    found = BANNER.search(dev.output())
    assert found, dev.output()
    seen = run_page("dashboard_page.mjs", found.group(1), dev.url("front"))
    assert seen["answer"] == "front + back ok"
    # One trace across both workers: the front's request and its hop to the back worker.
    assert seen["trace"] == seen["backTrace"] and re.fullmatch(r"[0-9a-f]{32}", seen["trace"])
    assert any(s.startswith("front: GET /hello-dashboard") for s in seen["spans"]), seen["spans"]
    assert any(s.startswith("back: GET /inner/hello-dashboard") for s in seen["spans"])
    assert "front: D1 run" in seen["spans"], seen["spans"]  # a binding call inside the request
    assert "[front] log: front saw /hello-dashboard" in seen["traceLogs"]
    assert (
        any(h.startswith("front") for h in seen["workers"]) and "env.BACK" in seen["frontBindings"]
    )
    # The D1 table's rows, the hostile note shown as text (no element made, no script run).
    assert seen["d1Columns"] == ["id", "path", "note"]
    note = "<img src=x onerror=\"document.title='pwned'\">"
    assert [row[1:] for row in seen["d1Rows"]].count(["/hello-dashboard", note]) == 1
    assert seen["imagesInPage"] == 0 and seen["title"] != "pwned"
    assert "read-only" in seen["refusal"] and "DELETE" in seen["refusal"]
    assert int(seen["count"]) >= 1
    assert seen["refreshed"]  # a later request's row, after the view's refresh hint
    assert seen["foreign"] == [] and seen["consoleErrors"] == []
    assert seen["failed"] == [["/_dashboard/api/d1/query", 400]]  # the refused DELETE only
    for name in ("requests", "logs", "workers", "d1-table", "d1-refusal", "d1-console"):
        data = (shots / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name


def test_the_state_browsers_show_hostile_keys_as_text(dashboard: Dashboard, shots: Path) -> None:
    need_browser()
    seen = run_page("state_pages.mjs", dashboard.base)
    assert seen["errors"] == [] and seen["dialogs"] == 0 and seen["images"] == 0
    assert len(seen["kvKeys"]) == 100  # one page
    everything = seen["kvKeysAfterNext"]  # the second page added below the first
    assert len(everything) == KEYS + len(HOSTILE) + 1 and set(HOSTILE) <= set(everything)
    assert seen["kvValue"] == f"value of {HOSTILE[0]}"
    assert HOSTILE[0] in seen["r2Rows"] and "cats/" in seen["r2Rows"]
    assert seen["r2Value"] == "meow"
    assert seen["doKeys"] == [HOSTILE[0], "count"]
    assert seen["messages"] == 3 and seen["instances"] == ["inst-1"]
    for name in ("kv", "r2", "durable-objects", "queues", "workflows"):
        data = (shots / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
