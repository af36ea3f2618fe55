"""``wranglerpy edge start --no-services`` / ``--services-port``: the same flags as ``dev``,
passed to the edge daemon (a real daemon started through the CLI)."""

from __future__ import annotations

import socket

import pytest

from tests.deploy.conftest import Edge, edge  # noqa: F401 - the fixture
from tests.waits import wait_until
from wranglerpy.cli.edge import services_differ
from wranglerpy.deploy.client import running_edge
from wranglerpy.services.info import ServicesInfo, read_info
from wranglerpy.testing.dev_server import free_port


def announced(edge: Edge) -> ServicesInfo | None:  # noqa: F811
    """What the running daemon kept in services.json once its services settled (None before)."""
    running = running_edge(edge.paths)
    assert running is not None, "the edge is not running"
    return read_info(edge.paths.root, running.pid)


def services_up(edge: Edge) -> bool:  # noqa: F811
    info = announced(edge)
    return info is not None and info.running


@pytest.mark.integration
def test_no_services_starts_the_edge_without_the_services_port(edge: Edge) -> None:  # noqa: F811
    wanted = free_port()
    edge.cli("edge", "start", "--port", "0", "--no-services", "--services-port", str(wanted))
    wait_until(lambda: announced(edge) is not None, "the edge's services.json")
    assert announced(edge) == ServicesInfo("off")  # nothing started beside the edge
    status = edge.cli("edge", "status")
    assert "S3 API" not in status and "OpenAI" not in status
    with socket.socket() as probe:  # the port it would have taken is still free
        probe.bind(("127.0.0.1", wanted))


@pytest.mark.integration
def test_services_port_picks_the_edge_services_port(edge: Edge) -> None:  # noqa: F811
    wanted = free_port()
    edge.cli("edge", "start", "--port", "0", "--services-port", str(wanted))
    wait_until(lambda: services_up(edge), "the edge's services")
    status = edge.cli("edge", "status")
    assert f"S3 API (local R2 buckets) on http://127.0.0.1:{wanted}" in status


@pytest.mark.integration
def test_a_running_edge_says_it_keeps_its_services(edge: Edge) -> None:  # noqa: F811
    edge.cli("edge", "start", "--port", "0", "--services-port", str(free_port()))
    wait_until(lambda: services_up(edge), "the edge's services")
    again = edge.cli("edge", "start", "--no-services")
    assert "Already running" in again
    assert "keeps its options: --no-services (its services run)" in again
    other = edge.cli("edge", "start", "--services-port", str(free_port()))
    assert "(its services run on port " in other
    assert "keeps its options" not in edge.cli("edge", "start")


@pytest.mark.integration
def test_services_on_a_port_that_only_starts_like_the_asked_one_are_told_apart(
    edge: Edge,  # noqa: F811
) -> None:
    """The port is compared as a number: on main, ``--services-port 4512`` was taken for a
    running ``:45123`` because the banner text contained ``:4512``."""
    taken = free_port()
    while taken < 10_000:  # a port with a shorter port for a prefix
        taken = free_port()
    edge.cli("edge", "start", "--port", "0", "--services-port", str(taken))
    wait_until(lambda: services_up(edge), "the edge's services")
    running = running_edge(edge.paths)
    assert running is not None
    services = running.status().services  # the daemon's own answer, typed
    assert services is not None and services.port == taken
    assert services.s3_url == f"http://127.0.0.1:{taken}"
    prefix = str(taken)[:-1]
    other = edge.cli("edge", "start", "--services-port", prefix)
    assert f"--services-port {prefix} (its services run on port {taken})" in other
    assert "keeps its options" not in edge.cli("edge", "start", "--services-port", str(taken))


RUNNING = ServicesInfo("running", port=8991, s3_url="http://127.0.0.1:8991")


@pytest.mark.parametrize(
    ("running", "services", "port", "said"),
    [
        (None, False, None, []),  # not settled yet: nothing to compare
        (RUNNING, False, None, ["--no-services (its services run)"]),
        (RUNNING, True, 899, ["--services-port 899 (its services run on port 8991)"]),
        (RUNNING, True, 8991, []),
        (RUNNING, True, 0, []),  # 0: any free port
        (RUNNING, True, None, []),
        (ServicesInfo("off"), False, None, []),
        (ServicesInfo("failed", error="port taken"), True, 9000, []),
    ],
)
def test_services_differ_compares_the_typed_state(
    running: ServicesInfo | None, services: bool, port: int | None, said: list[str]
) -> None:
    assert services_differ(running, services, port) == said


@pytest.mark.integration
def test_edge_status_says_why_its_services_did_not_start(edge: Edge) -> None:  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        edge.cli("edge", "start", "--port", "0", "--services-port", str(port))
        wait_until(lambda: announced(edge) is not None, "the edge's services.json")
        info = announced(edge)
        assert info is not None and info.status == "failed" and str(port) in info.error
        status = edge.cli("edge", "status")
    assert f"✘ {info.error}" in status
    assert "S3 API" not in status


@pytest.mark.integration
def test_a_daemon_side_error_is_one_line_in_the_cli(edge: Edge) -> None:  # noqa: F811
    """The real daemon raises DeployError for a worker it does not serve; over the control
    frames it reaches the CLI as that message, printed without a traceback."""
    edge.cli("edge", "start", "--port", "0", "--no-services")
    out = edge.cli("edge", "trigger", "nosuch", ok=False)
    assert '"nosuch" is not deployed on this edge.' in out
    assert "Traceback" not in out
