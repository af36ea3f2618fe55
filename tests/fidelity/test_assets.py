"""Deliver 8: ``assets.run_worker_first`` route patterns and ``.assetsignore``
(developers.cloudflare.com/workers/static-assets/: run_worker_first as a list of route
patterns with "!" exclusions; .assetsignore in the assets folder, .gitignore syntax)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wranglerpy.config.load import load_worker
from wranglerpy.errors import ConfigError
from wranglerpy.runtime.assets import AssetServer
from wranglerpy.runtime.headers import Headers

WORKER = """
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("worker")
"""


def _project(tmp_path: Path, run_worker_first: str) -> Path:
    public = tmp_path / "public"
    (public / "api").mkdir(parents=True)
    (public / "api" / "docs.html").write_text("docs")
    (public / "api" / "data.json").write_text("{}")
    (public / "index.html").write_text("home")
    (public / "secret.env").write_text("x")
    (public / "drafts").mkdir()
    (public / "drafts" / "a.html").write_text("draft")
    (public / ".assetsignore").write_text("*.env\ndrafts/\n")
    config = tmp_path / "wrangler.toml"
    config.write_text(
        'name = "w"\nmain = "w.py"\ncompatibility_date = "2025-09-01"\n'
        f'[assets]\ndirectory = "public"\nrun_worker_first = {run_worker_first}\n'
    )
    return config


def test_route_patterns_choose_the_worker(tmp_path: Path) -> None:
    config = load_worker(_project(tmp_path, '["/api/*", "!/api/docs*"]'))
    assert config.assets is not None
    server = AssetServer(config.assets)
    assert server.worker_first("/api/data.json") and server.worker_first("/api/x/y")
    assert not server.worker_first("/api/docs.html")
    assert not server.worker_first("/index.html")


def test_assetsignore_files_are_not_served(tmp_path: Path) -> None:
    config = load_worker(_project(tmp_path, "false"))
    assert config.assets is not None
    server = AssetServer(config.assets)
    assert server.lookup("GET", "/index.html", Headers()) is not None
    for path in ("/secret.env", "/drafts/a.html", "/.assetsignore"):
        assert server.lookup("GET", path, Headers()) is None, path


def test_a_pattern_must_be_a_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='must start with "/"'):
        load_worker(_project(tmp_path, '["api/*"]'))


async def test_worker_first_only_where_patterns_match(harness, tmp_path: Path) -> None:
    config = load_worker(_project(tmp_path, '["/api/*"]'))
    assert config.assets is not None
    async with harness.build(WORKER, assets=AssetServer(config.assets)) as client:
        assert (await client.get("/api/data.json")).text == "worker"
        assert (await client.get("/index.html")).text == "home"
