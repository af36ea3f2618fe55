"""``[limits]`` per ``step.do()`` attempt, as Cloudflare meters Workflows.

cloudflare-docs src/content/docs/workflows/reference/limits.mdx: "Compute time per step",
30 seconds by default, raised "for all invocations associated with a Workflow definition by
setting ``limits.cpu_ms``" (section "Increasing Workflow CPU limits"); over it a Workflow
throws ``Error: Worker exceeded CPU time limit.`` (same section). A failed attempt that is not
a NonRetryableError is retried per the step's ``retries`` (workers-sdk
packages/workflows-shared/src/context.ts, the ``catch`` of ``doWrapper``).
"""

import time
from typing import Any

from tests.bindings.workflows.conftest import Harness
from wranglerpy.bindings.workflows.steps import WORKER_EXCEEDED_CPU
from wranglerpy.config.limits import Limits
from wranglerpy.runtime.entrypoint import WorkflowEntrypoint

ATTEMPTS: list[int] = []
FAST_RETRY = {"retries": {"limit": 2, "delay": 1, "backoff": "constant"}}


def spin(seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


class Runaway(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do("burn", config=FAST_RETRY)
        async def burn(ctx: Any) -> str:
            ATTEMPTS.append(ctx.attempt)
            spin(60)  # far past any budget of these tests: only the limit stops it
            return "never"

        return await burn()


async def test_a_step_over_its_cpu_budget_fails_each_attempt_and_the_instance(
    wf: Harness,
) -> None:
    ATTEMPTS.clear()
    wf.start(Runaway, limits=Limits(cpu_ms=50))
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status["status"] == "errored"
    assert status["error"] == {"name": "Error", "message": WORKER_EXCEEDED_CPU}
    assert ATTEMPTS == [1, 2, 3]  # the first attempt and the 2 retries of its config


class BurnsOnce(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do("flaky", config=FAST_RETRY)
        async def flaky(ctx: Any) -> int:
            ATTEMPTS.append(ctx.attempt)
            if ctx.attempt == 1:
                spin(60)
            return ctx.attempt

        return await flaky()


async def test_an_attempt_stopped_at_the_limit_is_retried(wf: Harness) -> None:
    ATTEMPTS.clear()
    wf.start(BurnsOnce, limits=Limits(cpu_ms=50))
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status == {"status": "complete", "error": None, "output": 2}
    assert ATTEMPTS == [1, 2]


class TwoSteps(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do("a")
        async def a() -> str:
            spin(0.12)
            return "a"

        @step.do("b", depends=[a])
        async def b(x: str) -> str:
            spin(0.12)
            return x + "b"

        return await b()


async def test_each_step_has_its_own_budget(wf: Harness) -> None:
    """Two steps of 120 ms CPU each under a 200 ms limit: the budget is per step, not per
    instance (240 ms in all would be over it)."""
    wf.start(TwoSteps, limits=Limits(cpu_ms=200))
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status == {"status": "complete", "error": None, "output": "ab"}
