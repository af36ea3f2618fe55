"""The seeds' deployment guide on the local edge, with the real example app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.deploy.conftest import Edge

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inference-ui"


@pytest.fixture
def example(edge: Edge) -> Edge:
    if not (EXAMPLE / "wrangler.toml").is_file():
        pytest.skip("examples/inference-ui is not in this checkout")
    project = edge.project.parent / "inference-ui"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".wranglerpy", "__pycache__"))
    edge.project = project
    return edge


def test_deploy_all_follows_the_seeds_order_and_keeps_streaming_internal(
    example: Edge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(example.project)
    alone = example.cli("deploy", "--env", "production", "--edge-port", "0", ok=False)
    assert "Service binding STREAMING" in alone and "inference-ui-streaming" in alone
    out = example.cli("deploy", "--all", "--env", "production", "--edge-port", "0")
    assert out.index("No targets deployed for inference-ui-streaming") < out.index(
        "Deployed inference-ui-api triggers"
    )
    assert "placement: smart" in out
    with example.client("inference-ui-api") as api:
        assert api.get("/health").status_code == 200
        streamed = api.get("/stream/health")
        assert streamed.status_code == 200 and streamed.json()["worker"] == "streaming"
    with example.client("inference-ui-streaming") as direct:
        assert direct.get("/health").status_code == 404
    listed = example.cli("deployments", "list", "inference-ui-api")
    assert "Placement:   smart" in listed
