"""Starting and stopping the edge daemon."""

from __future__ import annotations

import json
import os
import socket
import threading

import pytest

from tests.deploy.conftest import Edge
from wranglerpy.deploy.client import EdgeStatus, running_edge, start_edge, stop_edge
from wranglerpy.errors import DeployError

pytestmark = pytest.mark.integration


def test_two_starts_at_once_share_one_daemon(edge: Edge) -> None:
    results: list[tuple[EdgeStatus, bool]] = []

    def start() -> None:
        results.append(start_edge(edge.paths, port=0))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({status.pid for status, _ in results}) == 1
    assert sorted(started for _, started in results) == [False, True]
    # The edge's folder and log are private (issue 18, finding 15).
    assert edge.paths.root.stat().st_mode & 0o777 == 0o700
    assert edge.paths.log.stat().st_mode & 0o777 == 0o600
    assert stop_edge(edge.paths) == results[0][0].pid
    assert running_edge(edge.paths) is None
    assert stop_edge(edge.paths) is None


def test_a_busy_port_is_a_clear_error(edge: Edge) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DeployError, match=f"could not start.*127.0.0.1:{port}"):
            start_edge(edge.paths, port=port)
    assert running_edge(edge.paths) is None


def test_a_stale_status_whose_pid_is_now_another_process_is_not_an_edge(edge: Edge) -> None:
    edge.paths.root.mkdir(parents=True, exist_ok=True)
    edge.paths.status.write_text(
        json.dumps(
            {"state": "running", "pid": os.getpid(), "ip": "127.0.0.1", "port": 1, "control": "c"}
            | {"tail": "t"}
        )
    )
    assert running_edge(edge.paths) is None
    assert stop_edge(edge.paths) is None  # and this process was not sent SIGTERM
    assert not edge.paths.status.exists()
