"""README, "Quick start": `wranglerpy init` projects run with `wranglerpy dev` and pass their own
`pytest`, with no warning on a new user's first run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wranglerpy.testing import DevServer


def init(tmp_path: Path, template: str) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "wranglerpy", "init", "my-app", "--template", template],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / "my-app"


@pytest.mark.integration
def test_service_bindings_template_answers_the_quick_start_curl(tmp_path: Path) -> None:
    project = init(tmp_path, "service-bindings")
    configs = (project / "wrangler.jsonc", project / "wrangler-backend.jsonc")
    with DevServer(*configs, cwd=project, watch=False) as dev:
        assert dev.client("my-app-gateway").get("/shout").text == "HELLO!"
    assert "No compatibility_date" not in dev.output()


@pytest.mark.integration
@pytest.mark.parametrize("template", ["hello", "service-bindings"])
def test_a_new_project_passes_its_own_tests_without_warnings(tmp_path: Path, template: str) -> None:
    project = init(tmp_path, template)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
