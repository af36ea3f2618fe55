"""``wranglerpy deploy`` errors and options through the real CLI (edge started only when needed)."""

from __future__ import annotations

import json

import pytest

from tests.deploy.conftest import Edge, edge  # noqa: F401 - the fixture
from wranglerpy.deploy.client import running_edge
from wranglerpy.deploy.history import DeploymentLog
from wranglerpy.deploy.versions import list_versions

pytestmark = pytest.mark.integration


def test_missing_target_fails_before_anything_changes(edge: Edge) -> None:  # noqa: F811
    out = edge.cli("deploy", "--edge-port", "0", ok=False)  # wrangler.toml: pair-api only
    assert 'Service binding STREAMING of worker "pair-api" points at' in out
    assert '"pair-streaming (environment production)"' in out
    assert "not deployed on the local edge" in out
    assert "wranglerpy deploy --all" in out and "Deploy pair-streaming first" in out
    assert running_edge(edge.paths) is None  # nothing started, nothing recorded
    assert DeploymentLog(edge.paths.deployments).workers() == []


def test_deploying_the_target_first_then_the_caller_works(edge: Edge) -> None:  # noqa: F811
    first = edge.cli("deploy", "-c", "wrangler-streaming.toml", "--edge-port", "0")
    assert "No targets deployed for pair-streaming" in first
    second = edge.cli("deploy", "-m", "api after streaming")
    assert "Deployed pair-api triggers" in second
    with edge.client("pair-api") as api:
        assert api.get("/rpc").json() == {"sum": 5}
    assert (
        DeploymentLog(edge.paths.deployments).current("pair-api").message == "api after streaming"
    )


def test_all_stops_at_the_first_failure_and_keeps_earlier_workers(edge: Edge) -> None:  # noqa: F811
    api = edge.project / "src" / "api.py"
    api.write_text(api.read_text() + "\nraise ImportError('broken api')\n")
    out = edge.cli("deploy", "--all", "--edge-port", "0", ok=False)
    assert "No targets deployed for pair-streaming" in out
    assert "broken api" in out
    log = DeploymentLog(edge.paths.deployments)
    assert log.workers() == ["pair-streaming"]


def test_a_cycle_is_reported_clearly(edge: Edge) -> None:  # noqa: F811
    streaming = edge.project / "wrangler-streaming.toml"
    streaming.write_text(
        streaming.read_text().replace(
            "[placement]", '[[services]]\nbinding = "API"\nservice = "pair-api"\n\n[placement]'
        )
    )
    out = edge.cli("deploy", "--all", "--edge-port", "0", ok=False)
    assert "cycle" in out and "pair-api" in out and "pair-streaming" in out
    assert running_edge(edge.paths) is None


def test_dry_run_builds_and_snapshots_but_changes_nothing(edge: Edge) -> None:  # noqa: F811
    streaming = edge.project / "wrangler-streaming.toml"
    streaming.write_text(streaming.read_text() + '\n[build]\ncommand = "echo building-now"\n')
    out = edge.cli("deploy", "--all", "--dry-run")
    assert "building-now" in out and "✨ Built successfully" in out
    assert out.count("--dry-run: ") == 2
    assert running_edge(edge.paths) is None
    assert {v.worker for v in list_versions(edge.paths)} == {"pair-api", "pair-streaming"}


def test_env_deploys_the_env_worker_under_its_name(edge: Edge) -> None:  # noqa: F811
    out = edge.cli(
        "deploy", "-c", "wrangler-streaming.toml", "--env", "staging", "--edge-port", "0"
    )
    assert "Deployed pair-streaming-staging triggers" in out
    with edge.client("pair-streaming-staging") as client:
        assert client.get("/health").json() == {"worker": "pair-streaming"}


def test_processes_per_worker(edge: Edge) -> None:  # noqa: F811
    edge.cli("edge", "start", "--port", "0", "--processes", "2")
    edge.cli("deploy", "-c", "wrangler-streaming.toml", "--env", "staging")
    status = running_edge(edge.paths)
    assert status is not None
    pids = status.status().workers["pair-streaming-staging"].processes
    assert len(pids) == 2
    with edge.client("pair-streaming-staging") as client:
        assert all(client.get("/health").status_code == 200 for _ in range(20))
    again = edge.cli("edge", "start", "--processes", "3", "--simulate-latency")
    assert "Already running" in again
    assert "keeps its options: --processes 2 (asked: 3), --simulate-latency False" in again
    assert "keeps its options" not in edge.cli("edge", "start")


def test_a_missing_main_stops_all_before_any_switch(edge: Edge) -> None:  # noqa: F811
    (edge.project / "src" / "api.py").unlink()
    out = edge.cli("deploy", "--all", "--edge-port", "0", ok=False)
    assert 'Worker "pair-api": main entry point' in out and "does not exist" in out
    assert DeploymentLog(edge.paths.deployments).workers() == []


def test_a_missing_compatibility_date_is_refused_on_one_line(edge: Edge) -> None:  # noqa: F811
    """wrangler refuses to upload a worker without a compatibility date (workers-sdk
    packages/deploy-helpers/src/deploy/helpers/validate-worker-props.ts:63-66, "A
    compatibility_date is required when uploading a Worker"; interactively
    packages/wrangler/src/deploy/autoconfig.ts:230); ``dev`` only warns."""
    config = edge.project / "wrangler-streaming.toml"
    text = config.read_text()
    config.write_text("\n".join(x for x in text.splitlines() if "compatibility_date" not in x))
    out = edge.cli("deploy", "-c", config.name, "--edge-port", "0", ok=False)
    assert (
        'Worker "pair-streaming": a compatibility_date is required when uploading a Worker.' in out
    )
    assert "Add compatibility_date = " in out and str(config) in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1
    assert running_edge(edge.paths) is None
    assert DeploymentLog(edge.paths.deployments).workers() == []
    uploaded = edge.cli("versions", "upload", "-c", config.name, ok=False)
    assert "a compatibility_date is required when uploading a Worker." in uploaded
    assert "Nothing was uploaded." in uploaded and list_versions(edge.paths) == []


def test_secrets_never_come_from_dev_vars_and_survive_later_deploys(edge: Edge) -> None:  # noqa: F811
    (edge.project / ".dev.vars").write_text("TOKEN=dev-only\n")
    out = edge.cli("deploy", "--all", "--edge-port", "0")
    assert "not deployed (TOKEN)" in out
    with edge.client("pair-api") as api:
        assert api.get("/secret").text == "-"
    (edge.project.parent / "prod.vars").write_text("TOKEN=prod\n")
    out = edge.cli("deploy", "--secrets-file", str(edge.project.parent / "prod.vars"))
    assert "Secrets from" in out and "TOKEN" in out and "prod\n" not in out
    api_py = edge.project / "src" / "api.py"
    api_py.write_text(api_py.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
    assert "Secrets kept from the live version: TOKEN" in edge.cli("deploy")
    with edge.client("pair-api") as api:
        assert api.get("/secret").text == "prod"
        assert api.get("/health").json()["version"] == "v2"
    first = DeploymentLog(edge.paths.deployments).history("pair-api")[0].version_id
    out = edge.cli("rollback", first[:10], "--name", "pair-api", "-y")
    assert "after the rollback the worker has none" in out
    with edge.client("pair-api") as api:
        assert api.get("/secret").text == "-"


def test_a_target_deployed_on_a_stopped_edge_counts(edge: Edge) -> None:  # noqa: F811
    edge.cli("deploy", "-c", "wrangler-streaming.toml", "--edge-port", "0")
    edge.cli("edge", "stop")
    status = edge.cli("deployments", "status", "pair-streaming")
    assert "(active)" in status and "The local edge is not running" in status
    out = edge.cli("deploy")  # pair-streaming is restored when deploy starts the edge
    assert "Deployed pair-api triggers" in out
    with edge.client("pair-api") as api:
        assert api.get("/rpc").json() == {"sum": 5}
    assert "Served by the local edge" in edge.cli("deployments", "status", "pair-streaming")
    live = json.loads(edge.cli("deployments", "status", "pair-api", "--json"))
    assert live["serving"] is True and live["source"] == "deploy"
    assert edge.cli("deployments", "list", "pair-api").count("Deployment:  ") == 1


def test_delete_refuses_a_binding_target_then_removes_workers(edge: Edge) -> None:  # noqa: F811
    edge.cli("deploy", "--all", "--edge-port", "0")
    refused = edge.cli("delete", "pair-streaming", "-y", ok=False)
    assert "target of service bindings of deployed workers: pair-api" in refused
    out = edge.cli("delete", "pair-api", "-y")
    assert "✔ Deleted pair-api" in out
    with edge.client("pair-api") as api:
        assert api.get("/health").status_code == 404
    status = running_edge(edge.paths)
    assert status is not None and set(status.status().workers) == {"pair-streaming"}
    edge.cli("edge", "stop")
    edge.cli("delete", "pair-streaming", "-y")  # a stopped edge: only its log changes
    assert DeploymentLog(edge.paths.deployments).workers() == []
    edge.cli("edge", "start", "--port", "0")
    assert running_edge(edge.paths).status().workers == {}
    assert "is not deployed" in edge.cli("delete", "pair-api", "-y", ok=False)
