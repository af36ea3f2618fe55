"""``--target`` on deploy and the history commands: user mistakes are one-line errors, and
the Ray target reads its own folder (no cluster needed for these)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from wranglerpy.cli.main import app
from wranglerpy.deploy.history import Deployment, DeploymentLog

WORKER = 'name = "solo"\nmain = "w.py"\ncompatibility_date = "2025-10-01"\n'


def project(tmp_path: Path) -> Path:
    (tmp_path / "wrangler.toml").write_text(WORKER)
    (tmp_path / "w.py").write_text("from workers import Response\n")
    return tmp_path


def test_an_unknown_target_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.chdir(project(tmp_path))
    result = CliRunner().invoke(app, ["deploy", "--target", "k8s"])
    assert result.exit_code != 0
    assert "--target must be one of edge, ray, got 'k8s'" in result.output
    assert "Traceback" not in result.output


def test_a_missing_placement_file_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(project(tmp_path))
    result = CliRunner().invoke(
        app,
        ["deploy", "--target", "ray", "--state-dir", str(tmp_path / "ray"), "--ray-config", "x"],
    )
    assert result.exit_code != 0
    assert "--ray-config x: no such file" in result.output


def test_deployments_list_reads_the_ray_targets_history(tmp_path):
    ray_dir = tmp_path / "ray"
    DeploymentLog(ray_dir / "deployments.json").record(Deployment.new("solo", "v1", "first"))
    result = CliRunner().invoke(
        app, ["deployments", "list", "solo", "--target", "ray", "--state-dir", str(ray_dir)]
    )
    assert "first" in result.output, result.output
    edge_only = CliRunner().invoke(
        app, ["deployments", "list", "solo", "--state-dir", str(tmp_path / "edge")]
    )
    assert edge_only.exit_code != 0


def test_without_the_ray_extra_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.chdir(project(tmp_path))
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    result = CliRunner().invoke(
        app, ["deploy", "--target", "ray", "--state-dir", str(tmp_path / "ray")]
    )
    assert result.exit_code != 0
    assert "pip install 'wranglerpy[ray]'" in result.output
    assert "Traceback" not in result.output
