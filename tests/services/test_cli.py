"""`wranglerpy services`: the APIs without dev, stopped by Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_services_command_serves_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "wranglerpy"), "services", "--port", "0",
         "--persist-to", str(tmp_path)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        found = re.search(r"OpenAI-compatible API .* on (\S+)", "".join(lines))
        assert found, lines
        models = httpx.get(f"{found.group(1)}/models").json()
        assert "@cf/meta/llama-3.1-8b-instruct" in [m["id"] for m in models["data"]]
        anonymous = httpx.get(found.group(1).removesuffix("/v1") + "/")
        assert anonymous.status_code == 403 and b"<Code>AccessDenied</Code>" in anonymous.content
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
