"""The chat page in a real headless Chromium, against the real example under `wranglerpy dev`.

tests/examples/browser/chat_page.mjs drives Debian's Chromium with playwright-core (no browser
download): it types a question, checks that text appears while the answer is still streaming,
waits for the end, and saves a screenshot. `.ci/run` installs Chromium and playwright-core.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.models import SMOLLM2
from wranglerpy.testing import DevServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inference-ui"
BROWSER = Path(__file__).resolve().parent / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def dev():
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    if NODE is None or not (BROWSER / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core is not installed (cd tests/examples/browser && npm install)")
    if not ModelCache().is_cached(SMOLLM2):
        pytest.skip(f"{SMOLLM2.name} is not cached; run `wranglerpy ai pull`")
    with DevServer(
        EXAMPLE / "wrangler.toml",
        EXAMPLE / "wrangler-streaming.toml",
        cwd=EXAMPLE,
        watch=False,
        timeout=120,
    ) as server:
        yield server


def test_the_answer_streams_into_the_page(dev, tmp_path):
    shot = tmp_path / "chat.png"
    result = subprocess.run(
        [
            str(NODE),
            str(BROWSER / "chat_page.mjs"),
            dev.url("inference-ui-api") + "/chat/",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=BROWSER,
        env={"PATH": "/usr/bin:/bin", "CHROMIUM": str(CHROMIUM), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["state"] == "done"
    assert seen["seenWhileStreaming"].strip(), "no text appeared before the answer ended"
    assert len(seen["answer"].strip()) >= 3
    # The screenshot: a real PNG of the page with the question and the answer drawn on it.
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
