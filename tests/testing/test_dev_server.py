"""``DevServer`` (the ``wranglerpy_dev`` fixture) gives every worker a free port, so a
project's smoke tests run while its own ``wranglerpy dev`` holds the configured ports."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waits import wait_until
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


# A test run that never stops its server: killed from outside (SIGTERM, as CI timeouts do),
# leaving through sys.exit, or with a SIGTERM handler of its own that must still run.
ABANDONING_RUN = """
import json, signal, sys
from pathlib import Path
from wranglerpy.testing import DevServer

config, how = sys.argv[1], sys.argv[2]
if how == "own-handler":
    def own(signum, frame):
        Path(config).with_name("handled").write_text("yes")
        sys.exit(3)
    signal.signal(signal.SIGTERM, own)
dev = DevServer(config, cwd=Path(config).parent, watch=False).start()
worker = int(dev.client().get("/").text)
print(json.dumps({"dev": dev.process.pid, "worker": worker}), flush=True)
if how == "exit":
    sys.exit(0)
signal.pause()
"""


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody has reaped yet (it runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.integration
@pytest.mark.parametrize("how", ["sigterm", "own-handler", "exit"])
def test_servers_a_run_leaves_behind_are_stopped(tmp_path: Path, how: str) -> None:
    (tmp_path / "worker.py").write_text(
        "import os\nfrom workers import Response, WorkerEntrypoint\n\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        return Response(str(os.getpid()))\n"
    )
    config = tmp_path / "wrangler.toml"
    config.write_text('name = "left"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n')
    with subprocess.Popen(
        [sys.executable, "-c", ABANDONING_RUN, str(config), how], stdout=subprocess.PIPE, text=True
    ) as run:
        try:
            assert run.stdout is not None
            pids = json.loads(run.stdout.readline())  # the server is up and answers
            assert not _gone(pids["dev"]) and not _gone(pids["worker"])
            if how != "exit":
                run.send_signal(signal.SIGTERM)
            code = run.wait(timeout=60)
        finally:
            run.kill()
    assert code == {"sigterm": -signal.SIGTERM, "own-handler": 3, "exit": 0}[how]
    if how == "own-handler":
        assert (tmp_path / "handled").read_text() == "yes"  # the handler before ours still ran
    wait_until(lambda: _gone(pids["dev"]) and _gone(pids["worker"]), "the left-behind server")
