"""Workflows under the real ``wranglerpy dev``: Cloudflare's public example ``10-workflows``
runs unchanged (start, then status until complete), and an instance survives a SIGKILL of
the whole dev session without running a completed step again."""

import shutil
from pathlib import Path

import httpx
import pytest

from tests.bindings.queues.crash import kill_dev, lines
from tests.waits import wait_until
from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parent / "fixtures" / "10-workflows"


def status_of(client: httpx.Client, path: str) -> dict[str, object]:
    got = client.get(path)
    assert got.status_code == 200, got.text
    data: dict[str, object] = got.json()
    return data


def test_cloudflare_example_10_workflows_runs_unchanged(tmp_path: Path) -> None:
    project = tmp_path / "10-workflows"
    shutil.copytree(EXAMPLE, project)
    with DevServer(project / "wrangler.jsonc", cwd=project, watch=False) as dev:
        client = dev.client()
        started = client.get("/start")
        assert started.status_code == 200
        assert started.text.startswith("Just kicked off a workflow with ID: ")
        instance = started.text.rsplit(" ", 1)[1]
        # The example sleeps 1-10 s and 5-15 s in its two dependency steps.
        wait_until(
            lambda: status_of(client, f"/status/{instance}")["status"] == "complete",
            "the example workflow to complete",
            timeout=90,
        )
        assert status_of(client, f"/status/{instance}") == {
            "status": "complete",
            "error": None,
            "output": None,
        }
        output = dev.output()
    assert "executing dep1" in output and "executing dep2" in output
    assert "I awaited the first two steps and now I am done" in output


WORKER = """
from urllib.parse import urlparse

from workers import Response, WorkerEntrypoint, WorkflowEntrypoint


class Pipeline(WorkflowEntrypoint):
    async def run(self, event, step):
        @step.do("one")
        async def one():
            with open(self.env.LOG, "a") as log:
                log.write("one\\n")
            return event["payload"]["n"] + 1

        value = await one()
        await step.sleep("pause", "3 seconds")

        @step.do("two")
        async def two():
            with open(self.env.LOG, "a") as log:
                log.write("two\\n")
            return value * 10

        return await two()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/start":
            instance = await self.env.PIPELINE.create(id="run-1", params={"n": 4})
            return Response(instance.id)
        instance = await self.env.PIPELINE.get("run-1")
        return Response.json(await instance.status())
"""


def test_an_instance_resumes_after_sigkill_without_repeating_steps(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    log = tmp_path / "steps.log"
    (project / "entry.py").write_text(WORKER)
    config = project / "wrangler.toml"
    config.write_text(
        f'name = "pipeline"\nmain = "entry.py"\n\n[vars]\nLOG = "{log}"\n\n'
        '[[workflows]]\nname = "pipeline"\nbinding = "PIPELINE"\nclass_name = "Pipeline"\n'
    )
    state = tmp_path / "state"
    with DevServer(config, cwd=project, persist_to=state, watch=False) as dev:
        client = dev.client()
        assert client.get("/start").text == "run-1"
        wait_until(lambda: status_of(client, "/status")["status"] == "waiting", "the sleep")
        assert lines(log) == ["one"]
        kill_dev(dev)
    with DevServer(config, cwd=project, persist_to=state, watch=False) as dev:
        client = dev.client()
        wait_until(lambda: status_of(client, "/status")["status"] == "complete", "completion")
        assert status_of(client, "/status")["output"] == 50
        output = dev.output()
    # Step events are log lines, so `wranglerpy tail` shows them too.
    assert 'WORKFLOW pipeline run-1 step "two" done (attempt 1)' in output
    assert 'WORKFLOW pipeline run-1 step "one" done' not in output  # not run again
    assert lines(log) == ["one", "two"]


IMPLICIT_WORKER = """
from workers import Response, WorkerEntrypoint, WorkflowEntrypoint


class Sum(WorkflowEntrypoint):
    async def run(self, event, step):
        @step.do("left")
        async def left():
            return 1

        @step.do("right")
        async def right():
            return 2

        @step.do("total")
        async def total(left, right):
            return left + right

        return await total()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/start"):
            return Response((await self.env.SUM.create(id="s-1")).id)
        return Response.json(await (await self.env.SUM.get("s-1")).status())
"""


def test_a_worker_without_compatibility_date_runs_workflows_at_todays_date(
    tmp_path: Path,
) -> None:
    """Without ``compatibility_date``, dev warns it uses today's date; the workflows runner
    uses that date too, so ``python_workflows_implicit_dependencies`` (implied from
    2026-02-25, workerd src/workerd/io/compatibility-date.capnp) is on: parameters name the
    steps they depend on. Before, the runner took the missing date as none and ran the
    legacy mode, where ``total(left, right)`` without ``depends=`` fails."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "entry.py").write_text(IMPLICIT_WORKER)
    config = project / "wrangler.toml"
    config.write_text(
        'name = "summer"\nmain = "entry.py"\n\n'
        '[[workflows]]\nname = "sum"\nbinding = "SUM"\nclass_name = "Sum"\n'
    )
    with DevServer(config, cwd=project, persist_to=tmp_path / "state", watch=False) as dev:
        client = dev.client()
        assert client.get("/start").text == "s-1"
        wait_until(
            lambda: status_of(client, "/status")["status"] in ("complete", "errored"),
            "the workflow to finish",
        )
        assert status_of(client, "/status") == {"status": "complete", "error": None, "output": 3}
        output = dev.output()
    assert "No compatibility_date was specified: using today's date" in output


CPU_WORKER = """
import time

from workers import Response, WorkerEntrypoint, WorkflowEntrypoint


def spin(seconds):
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


class Burner(WorkflowEntrypoint):
    async def run(self, event, step):
        @step.do("light")
        async def light():
            spin(0.05)
            return "ok"

        @step.do("heavy", config={"retries": {"limit": 1, "delay": 1, "backoff": "constant"}})
        async def heavy():
            spin(60)
            return "never"

        await light()
        return await heavy()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/start"):
            return Response((await self.env.BURNER.create(id="b-1")).id)
        return Response.json(await (await self.env.BURNER.get("b-1")).status())
"""


def test_a_step_over_limits_cpu_ms_fails_and_is_retried_under_dev(tmp_path: Path) -> None:
    """``[limits] cpu_ms`` is each step's CPU budget (cloudflare-docs
    src/content/docs/workflows/reference/limits.mdx, "Increasing Workflow CPU limits"): a step
    over it fails with ``Error: Worker exceeded CPU time limit.``, is retried per its config,
    and the instance errors when the retries are spent; a step under it completes."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "entry.py").write_text(CPU_WORKER)
    config = project / "wrangler.toml"
    config.write_text(
        'name = "burner"\nmain = "entry.py"\ncompatibility_date = "2025-09-01"\n\n'
        "[limits]\ncpu_ms = 300\n\n"
        '[[workflows]]\nname = "burner"\nbinding = "BURNER"\nclass_name = "Burner"\n'
    )
    with DevServer(config, cwd=project, persist_to=tmp_path / "state", watch=False) as dev:
        client = dev.client()
        assert client.get("/start").text == "b-1"
        wait_until(
            lambda: status_of(client, "/status")["status"] in ("complete", "errored"),
            "the workflow to finish",
            timeout=90,
        )
        assert status_of(client, "/status") == {
            "status": "errored",
            "error": {"name": "Error", "message": "Worker exceeded CPU time limit."},
            "output": None,
        }
        output = dev.output()
    assert 'WORKFLOW burner b-1 step "light" done (attempt 1)' in output
    for attempt in (1, 2):  # the first attempt and the one retry of its config
        assert (
            f'WORKFLOW burner b-1 step "heavy" attempt {attempt} failed: '
            "Error: Worker exceeded CPU time limit." in output
        )
