"""The dashboard served by the local edge: its URL among the edge's announced lines, the
deployed workers with their bindings (from the deployment log), and a request through the edge
arriving on the live stream with the same trace id as its service-binding hop."""

from __future__ import annotations

import httpx
import pytest

from tests.deploy.conftest import Edge, edge  # noqa: F401 - the fixture
from tests.services.dashboard.test_api import next_event, sse
from tests.waits import wait_until
from wranglerpy.deploy.client import running_edge
from wranglerpy.services.info import ServicesInfo, read_info

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def dashboard_url(edge: Edge) -> str:  # noqa: F811 - the fixture's type
    running = running_edge(edge.paths)
    assert running is not None

    def up() -> ServicesInfo | None:
        info = read_info(edge.paths.root, running.pid)
        return info if info is not None and info.running else None

    wait_until(lambda: up() is not None, "the edge to announce its dashboard")
    info = up()
    assert info is not None and info.dashboard_url.endswith("/_dashboard/")
    assert info.dashboard_url in edge.cli("edge", "status")
    return info.dashboard_url


def test_the_edge_serves_the_dashboard_of_its_deployed_workers(edge: Edge) -> None:  # noqa: F811
    edge.cli("deploy", "--all", "--edge-port", "0")
    base = dashboard_url(edge)
    with httpx.Client(base_url=base, timeout=30) as client:
        overview = client.get("api/overview").json()
        assert overview["mode"] == "edge"
        workers = {w["name"]: w for w in overview["workers"]}
        assert set(workers) == {"pair-api", "pair-streaming"}
        api = workers["pair-api"]
        assert api["running"] and api["mode"] == "edge"
        assert {"binding": "KV", "kind": "KV Namespace", "target": "pair-kv"} in api["bindings"]
        assert {"binding": "STREAMING", "kind": "Worker", "target": "pair-streaming"} in api[
            "bindings"
        ]
        with client.stream("GET", "api/stream", params={"after": overview["seq"]}) as stream:
            events = sse(stream)
            with edge.client("pair-api") as worker:
                assert worker.get("/stream/health").status_code == 200
            # Events arrive as calls finish: the hop comes first. One trace for both.
            by_worker: dict[str, dict[str, object]] = {}
            while len(by_worker) < 2:
                event, _ = next_event(events)
                if event.get("path") in ("/stream/health", "/health"):
                    by_worker[str(event["worker"])] = event
    assert set(by_worker) == {"pair-api", "pair-streaming"}
    assert by_worker["pair-api"]["trace"] == by_worker["pair-streaming"]["trace"]
    assert by_worker["pair-streaming"]["parent_span"] == by_worker["pair-api"]["span"]
