"""The workflow engine with a real store: completion, stored steps on replay, retries,
NonRetryableError, events, pause/resume, terminate and restart.

Behaviour follows workers-sdk packages/workflows-shared/src/context.ts (retries: limit + 1
attempts, ``delay * 2 ** (attempt - 1)``; a NonRetryableError is not retried) and engine.ts
(an unhandled NonRetryableError errors the instance with a WorkflowFatalError)."""

import asyncio
from typing import Any

import pytest

from tests.bindings.workflows.conftest import Harness
from wranglerpy.bindings.workflows.errors import NonRetryableError, WorkflowError
from wranglerpy.runtime.entrypoint import WorkflowEntrypoint

CALLS: list[str] = []
GATE: dict[str, asyncio.Event] = {}


class Pipeline(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do("fetch")
        async def fetch() -> dict[str, Any]:
            CALLS.append("fetch")
            return {"n": event["payload"]["n"], "raw": b"\x01"}

        got = await fetch()
        await step.sleep("nap", "150 milliseconds")

        @step.do("double", depends=[fetch])
        async def double(data: Any) -> int:
            CALLS.append("double")
            return data["n"] * 2

        return {"result": await double(), "raw": got["raw"]}


async def test_an_instance_runs_to_complete(wf: Harness) -> None:
    CALLS.clear()
    wf.start(Pipeline)
    instance = await wf.binding.create(id="job-1", params={"n": 21})
    status = await wf.until(instance, "complete", "errored")
    assert status == {"status": "complete", "error": None, "output": {"result": 42, "raw": b"\x01"}}
    # "double" depends on "fetch": fetch's stored result is reused, not run again.
    assert CALLS == ["fetch", "double"]
    steps = wf.store.steps("wf", "job-1")
    assert [(s.key, s.state) for s in steps] == [
        ("fetch-1", "done"),
        ("sleep-nap-1", "done"),
        ("double-1", "done"),
    ]


async def test_a_replay_after_an_engine_stops_skips_completed_steps(wf: Harness) -> None:
    CALLS.clear()

    class Slow(Pipeline):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do("first")
            async def first() -> str:
                CALLS.append("first")
                return "one"

            one = await first()
            GATE["slept"].set()
            await step.sleep("wait", "1 second")

            @step.do("second")
            async def second() -> str:
                CALLS.append("second")
                return "two"

            return [one, await second()]

    GATE["slept"] = asyncio.Event()
    wf.start(Slow)
    instance = await wf.binding.create(id="resume")
    await asyncio.wait_for(GATE["slept"].wait(), 10)
    assert (await instance.status())["status"] == "waiting"
    await wf.stop()  # the process goes away mid-sleep
    assert (await instance.status())["status"] == "waiting"
    wf.start(Slow)
    status = await wf.until(instance, "complete", "errored")
    assert status["output"] == ["one", "two"]
    assert CALLS == ["first", "second"]


class Flaky(WorkflowEntrypoint):
    failures = 2

    async def run(self, event: Any, step: Any) -> Any:
        @step.do("flaky", config={"retries": {"limit": 3, "delay": 10, "backoff": "constant"}})
        async def flaky(ctx: Any) -> int:
            CALLS.append(f"attempt {ctx.attempt}")
            if ctx.attempt <= self.failures:
                raise ValueError(f"try {ctx.attempt}")
            return ctx.attempt

        return await flaky()


async def test_a_step_is_retried_until_it_succeeds(wf: Harness) -> None:
    CALLS.clear()
    wf.start(Flaky)
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status["output"] == 3
    assert CALLS == ["attempt 1", "attempt 2", "attempt 3"]


async def test_retries_run_out_and_the_instance_errors(wf: Harness) -> None:
    CALLS.clear()

    class Hopeless(Flaky):
        failures = 99

    wf.start(Hopeless)
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status["error"] == {"name": "ValueError", "message": "try 4"}
    assert len(CALLS) == 4  # limit 3: one attempt and three retries


async def test_non_retryable_error_stops_at_once(wf: Harness) -> None:
    CALLS.clear()

    class Fatal(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            @step.do("charge")
            async def charge() -> None:
                CALLS.append("charge")
                raise NonRetryableError("card declined")

            await charge()

    wf.start(Fatal)
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert CALLS == ["charge"]
    assert status["error"]["name"] == "WorkflowFatalError"
    assert "NonRetryableError" in status["error"]["message"]


class Approval(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        GATE["waiting"].set()
        got = await step.wait_for_event("approval", "approved", timeout="30 seconds")
        return got["payload"]


async def test_wait_for_event_returns_the_sent_payload(wf: Harness) -> None:
    GATE["waiting"] = asyncio.Event()
    wf.start(Approval)
    instance = await wf.binding.create(id="approve-me")
    await asyncio.wait_for(GATE["waiting"].wait(), 10)
    await wf.until(instance, "waiting")
    other = await wf.binding.get("approve-me")  # any worker's handle reaches the instance
    await other.send_event(type="other", payload=1)
    await other.send_event({"type": "approved", "payload": {"by": "ana"}})
    status = await wf.until(instance, "complete", "errored")
    assert status["output"] == {"by": "ana"}


async def test_wait_for_event_times_out(wf: Harness) -> None:
    class Impatient(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            await step.wait_for_event("approval", "approved", timeout=50)

    wf.start(Impatient)
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status["error"] == {
        "name": "WorkflowTimeoutError",
        "message": "Execution timed out after 50ms",
    }


async def test_pause_resume_terminate_restart(wf: Harness) -> None:
    GATE["waiting"] = asyncio.Event()
    wf.start(Approval)
    instance = await wf.binding.create(id="ctl")
    await wf.until(instance, "waiting")
    await instance.pause()
    assert (await instance.status())["status"] == "paused"
    await instance.resume()
    await wf.until(instance, "waiting")
    await instance.terminate()
    assert (await instance.status())["status"] == "terminated"
    with pytest.raises(WorkflowError, match="instance.not_running"):
        await instance.send_event(type="approved", payload=1)
    await instance.restart()
    await wf.until(instance, "waiting")
    await instance.send_event(type="approved", payload="second life")
    assert (await wf.until(instance, "complete"))["output"] == "second life"


async def test_binding_errors(wf: Harness) -> None:
    with pytest.raises(WorkflowError, match="invalid id"):
        await wf.binding.create(id="no spaces")
    with pytest.raises(WorkflowError, match="larger than 1 MiB"):
        await wf.binding.create(params={"blob": "x" * (1024 * 1024)})
    await wf.binding.create(id="dup")
    with pytest.raises(WorkflowError, match="already_exists"):
        await wf.binding.create(id="dup")
    with pytest.raises(WorkflowError, match="instance.not_found"):
        await wf.binding.get("missing")
    with pytest.raises(WorkflowError, match="at least 1 instance"):
        await wf.binding.create_batch([])
    made = await wf.binding.create_batch([{"id": "b1"}, {"id": "b2", "params": {"x": 1}}])
    assert [i.id for i in made] == ["b1", "b2"]
    assert (await made[1].status())["status"] == "queued"  # no engine runs in this test


async def test_a_sleep_keeps_its_wake_time_across_a_restart(wf: Harness) -> None:
    """The wake-up time is stored when the sleep starts; a new engine waits for that same
    moment instead of sleeping the whole duration again."""
    GATE["asleep"] = asyncio.Event()

    class Sleeper(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            GATE["asleep"].set()
            await step.sleep("nap", "1 second")
            return "awake"

    wf.start(Sleeper)
    instance = await wf.binding.create(id="sleeper")
    await asyncio.wait_for(GATE["asleep"].wait(), 10)
    await wf.until(instance, "waiting")
    (before,) = wf.store.steps("wf", "sleeper")
    await wf.stop()
    wf.start(Sleeper)
    assert (await wf.until(instance, "complete"))["output"] == "awake"
    (after,) = wf.store.steps("wf", "sleeper")
    assert after.until == before.until and after.state == "done"
    assert after.ended_on is not None and before.until is not None
    assert after.ended_on >= before.until


async def test_sleep_until_the_past_is_an_error(wf: Harness) -> None:
    class TimeTraveler(WorkflowEntrypoint):
        async def run(self, event: Any, step: Any) -> Any:
            await step.sleep_until("yesterday", 1_000)  # epoch milliseconds, long gone

    wf.start(TimeTraveler)
    instance = await wf.binding.create()
    status = await wf.until(instance, "errored")
    assert status["error"] == {
        "name": "ValueError",
        "message": "You can't sleep until a time in the past, time-traveler",
    }
