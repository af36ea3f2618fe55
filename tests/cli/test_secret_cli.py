"""``wranglerpy secret put|list|delete|bulk`` on the local edge: each change a new version."""

from __future__ import annotations

import json

import pytest

from tests.deploy.conftest import Edge, edge  # noqa: F401 - the fixture
from wranglerpy.cli.main import app
from wranglerpy.deploy.history import DeploymentLog

pytestmark = pytest.mark.integration


def test_secret_put_list_bulk_delete(edge: Edge) -> None:  # noqa: F811
    edge.cli("deploy", "--all", "--edge-port", "0")
    put = edge.runner.invoke(
        app, ["secret", "put", "TOKEN", "--name", "pair-api"], input="s3cret\n"
    )
    assert put.exit_code == 0, put.output
    assert "Uploaded secret TOKEN" in put.output and "s3cret" not in put.output
    with edge.client("pair-api") as api:
        assert api.get("/secret").text == "s3cret"
    listed = json.loads(edge.cli("secret", "list", "--name", "pair-api"))
    assert listed == [{"name": "TOKEN", "type": "secret_text"}]
    bulk = edge.project.parent / "more.json"
    bulk.write_text(json.dumps({"TOKEN": "rotated", "OTHER": "x"}))
    assert "2 secret(s) uploaded" in edge.cli("secret", "bulk", str(bulk), "--name", "pair-api")
    with edge.client("pair-api") as api:
        assert api.get("/secret").text == "rotated"
    edge.cli("secret", "delete", "TOKEN", "--name", "pair-api", "-y")
    with edge.client("pair-api") as api:
        assert api.get("/secret").text == "-"
    sources = [d.source for d in DeploymentLog(edge.paths.deployments).history("pair-api")]
    assert sources == ["deploy", "secret", "secret", "secret"]
    assert 'has no secret named "TOKEN"' in edge.cli(
        "secret", "delete", "TOKEN", "--name", "pair-api", "-y", ok=False
    )


def test_secret_put_refuses_bad_names_and_undeployed_workers(edge: Edge) -> None:  # noqa: F811
    out = edge.runner.invoke(app, ["secret", "put", "OK", "--name", "pair-api"], input="v\n")
    assert out.exit_code != 0 and "not deployed on the local edge" in out.output
    edge.cli("deploy", "--all", "--edge-port", "0")
    out = edge.runner.invoke(app, ["secret", "put", "9bad", "--name", "pair-api"], input="v\n")
    assert out.exit_code != 0 and "not a valid secret name" in out.output
