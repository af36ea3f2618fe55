"""``wranglerpy edge start --no-services`` / ``--services-port``: the same flags as ``dev``,
passed to the edge daemon (a real daemon started through the CLI)."""

from __future__ import annotations

import json
import socket

import pytest

from tests.deploy.conftest import Edge, edge  # noqa: F401 - the fixture
from tests.waits import wait_until
from wranglerpy.deploy.client import running_edge
from wranglerpy.services.server import INFO_FILE
from wranglerpy.testing.dev_server import free_port

pytestmark = pytest.mark.integration


def announced_lines(edge: Edge) -> list[str] | None:  # noqa: F811
    """What the running daemon wrote to services.json once its services settled (None before)."""
    running = running_edge(edge.paths)
    assert running is not None, "the edge is not running"
    try:
        data = json.loads((edge.paths.root / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    return list(data["lines"]) if data.get("pid") == running.pid else None


def test_no_services_starts_the_edge_without_the_services_port(edge: Edge) -> None:  # noqa: F811
    wanted = free_port()
    edge.cli("edge", "start", "--port", "0", "--no-services", "--services-port", str(wanted))
    wait_until(lambda: announced_lines(edge) is not None, "the edge's services.json")
    assert announced_lines(edge) == []  # nothing started beside the edge
    status = edge.cli("edge", "status")
    assert "S3 API" not in status and "OpenAI" not in status
    with socket.socket() as probe:  # the port it would have taken is still free
        probe.bind(("127.0.0.1", wanted))


def test_services_port_picks_the_edge_services_port(edge: Edge) -> None:  # noqa: F811
    wanted = free_port()
    edge.cli("edge", "start", "--port", "0", "--services-port", str(wanted))
    wait_until(lambda: announced_lines(edge), "the edge's services banner")
    status = edge.cli("edge", "status")
    assert f"S3 API (local R2 buckets) on http://127.0.0.1:{wanted}" in status


def test_a_running_edge_says_it_keeps_its_services(edge: Edge) -> None:  # noqa: F811
    edge.cli("edge", "start", "--port", "0", "--services-port", str(free_port()))
    wait_until(lambda: announced_lines(edge), "the edge's services banner")
    again = edge.cli("edge", "start", "--no-services")
    assert "Already running" in again
    assert "keeps its options: --no-services (its services run)" in again
    other = edge.cli("edge", "start", "--services-port", str(free_port()))
    assert "(its services run elsewhere)" in other
    assert "keeps its options" not in edge.cli("edge", "start")
