"""On the local edge with two processes per worker, each workflow instance runs on exactly one
of them (the store's lease), and a queue's messages are each consumed once."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.bindings.queues.crash import lines
from tests.waits import wait_until
from wranglerpy.cli.main import app
from wranglerpy.deploy.client import running_edge, stop_edge
from wranglerpy.deploy.paths import EdgePaths

pytestmark = pytest.mark.integration

WORKER = """
from urllib.parse import urlparse

from workers import Response, WorkerEntrypoint, WorkflowEntrypoint


class Job(WorkflowEntrypoint):
    async def run(self, event, step):
        @step.do("work")
        async def work():
            with open(self.env.LOG, "a") as log:
                log.write(f"step {event['payload']['n']}\\n")
            return event["payload"]["n"]

        return await work()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/start":
            made = await self.env.JOB.create_batch([{"params": {"n": n}} for n in range(20)])
            await self.env.Q.sendBatch([{"body": n} for n in range(40)])
            return Response.json([i.id for i in made])
        instance = await self.env.JOB.get(path.rsplit("/", 1)[1])
        return Response.json(await instance.status())

    async def queue(self, batch):
        with open(self.env.LOG, "a") as log:
            for message in batch.messages:
                log.write(f"message {message.body}\\n")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "p"
    root.mkdir()
    (root / "entry.py").write_text(WORKER)
    (root / "wrangler.toml").write_text(
        f'name = "jobs"\nmain = "entry.py"\ncompatibility_date = "2026-02-19"\n\n[vars]\nLOG = "{tmp_path / "log"}"\n\n'
        '[[workflows]]\nname = "job"\nbinding = "JOB"\nclass_name = "Job"\n\n'
        '[[queues.producers]]\nbinding = "Q"\nqueue = "q"\n\n'
        '[[queues.consumers]]\nqueue = "q"\nmax_batch_size = 3\nmax_batch_timeout = 0\n'
    )
    paths = EdgePaths.resolve(tmp_path / "edge")
    monkeypatch.setenv("WRANGLERPY_EDGE_DIR", str(paths.root))
    monkeypatch.setenv("WRANGLERPY_REGISTRY_PATH", str(tmp_path / "registry"))
    monkeypatch.chdir(root)
    try:
        yield root
    finally:
        stop_edge(paths)


def test_two_processes_run_each_instance_and_message_once(project: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    started = runner.invoke(app, ["edge", "start", "--port", "0", "--processes", "2"])
    assert started.exit_code == 0, started.output
    deployed = runner.invoke(app, ["deploy"])
    assert deployed.exit_code == 0, deployed.output
    edge = running_edge(EdgePaths.resolve(tmp_path / "edge"))
    assert edge is not None
    with httpx.Client(
        base_url=f"http://127.0.0.1:{edge.port}",
        headers={"host": f"jobs.localhost:{edge.port}"},
        timeout=30,
    ) as client:
        ids = client.get("/start").json()
        for iid in ids:
            wait_until(lambda iid=iid: client.get(f"/status/{iid}").json()["status"] == "complete",
                     f"instance {iid}")  # fmt: skip
    log = tmp_path / "log"
    wait_until(lambda: sum(x.startswith("message") for x in lines(log)) >= 40, "all messages")
    got = lines(log)
    assert sorted(x for x in got if x.startswith("step")) == sorted(f"step {n}" for n in range(20))
    assert sorted(x for x in got if x.startswith("message")) == sorted(
        f"message {n}" for n in range(40)
    )
