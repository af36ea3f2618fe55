"""``DevServer`` (the ``wranglerpy_dev`` fixture) gives every worker a free port, so a
project's smoke tests run while its own ``wranglerpy dev`` holds the configured ports."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from wranglerpy.testing import DevServer

PAIR = Path(__file__).parent.parent / "integration" / "fixtures" / "pair"


@pytest.mark.integration
def test_every_worker_gets_a_free_port_while_the_configured_ones_are_busy(tmp_path: Path) -> None:
    project = tmp_path / "pair"
    shutil.copytree(PAIR, project)
    with socket.socket() as held:  # stands in for the user's own `dev` on the [dev] port
        held.bind(("127.0.0.1", 0))
        held.listen()
        busy = held.getsockname()[1]
        config = project / "wrangler-streaming.toml"
        config.write_text(config.read_text() + f"\n[dev]\nport = {busy}\n")
        with DevServer(project / "wrangler.toml", config, cwd=project) as dev:
            urls = {entry.url for entry in dev.workers.values()}
            assert len(urls) == 2 and not any(url.endswith(f":{busy}") for url in urls)
            health = dev.client("pair-streaming").get("/health")
            assert health.json()["status"] == "healthy"
