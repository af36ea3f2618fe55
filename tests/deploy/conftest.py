"""Fixtures for the local edge: a private state dir and registry, and an edge that is always
stopped (by pid) when the test ends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app
from wranglerpy.deploy.client import running_edge, stop_edge
from wranglerpy.deploy.paths import EdgePaths

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Edge:
    paths: EdgePaths
    project: Path
    runner: CliRunner

    def cli(self, *args: str, ok: bool = True) -> str:
        result = self.runner.invoke(app, ["--help"] if not args else list(args))
        output = result.output
        if ok:
            assert result.exit_code == 0, output + repr(result.exception)
        else:
            assert result.exit_code != 0, output
        return output

    @property
    def port(self) -> int:
        edge = running_edge(self.paths)
        assert edge is not None, "the edge is not running"
        return edge.port

    def client(self, worker: str, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"host": f"{worker}.localhost:{self.port}"},
            timeout=timeout,
        )


@pytest.fixture
def edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    project = tmp_path / "pair"
    shutil.copytree(FIXTURES / "pair", project)
    paths = EdgePaths.resolve(tmp_path / "edge")
    monkeypatch.setenv("WRANGLERPY_EDGE_DIR", str(paths.root))
    monkeypatch.setenv("WRANGLERPY_REGISTRY_PATH", str(tmp_path / "registry"))
    monkeypatch.chdir(project)
    try:
        yield Edge(paths, project, CliRunner())
    finally:
        stop_edge(paths)
