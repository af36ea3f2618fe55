"""The Python ``step`` API: legacy ``depends=`` and implicit dependencies, ``ctx``, config
validation and durations. Rules and messages follow workerd
src/pyodide/internal/workers-api/src/workers/_workers.py (``_WorkflowStepWrapper``),
src/workerd/io/compatibility-date.capnp (``python_workflows_implicit_dependencies``, implied
from 2026-02-25) and workers-sdk packages/workflows-shared/src/lib/validators.ts."""

import asyncio
from typing import Any

import pytest

from tests.bindings.workflows.conftest import Harness
from wranglerpy.bindings.workflows import durations
from wranglerpy.bindings.workflows.errors import WorkflowFatalError
from wranglerpy.bindings.workflows.step import implicit_dependencies
from wranglerpy.bindings.workflows.steps import resolve_config, retry_delay_ms
from wranglerpy.runtime.entrypoint import WorkflowEntrypoint

RUNS: list[str] = []


def test_the_implicit_dependency_flag() -> None:
    assert not implicit_dependencies((), "2025-11-02")
    assert implicit_dependencies(("python_workflows_implicit_dependencies",), "2025-11-02")
    assert implicit_dependencies((), "2026-02-25")
    assert not implicit_dependencies(("no_python_workflows_implicit_dependencies",), "2026-03-01")


class Implicit(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do()
        async def left() -> int:
            RUNS.append("left")
            return 1

        @step.do("right")
        async def right() -> int:
            RUNS.append("right")
            return 2

        @step.do(concurrent=True)
        async def total(left: int, right: int, ctx: Any) -> list[Any]:
            return [left + right, ctx.step.name, ctx.attempt]

        return await total()


async def test_implicit_dependencies_resolve_by_parameter_name(wf: Harness) -> None:
    RUNS.clear()
    wf.start(Implicit, implicit_dependencies=True)
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status["output"] == [3, "total", 1]
    assert sorted(RUNS) == ["left", "right"]


class Mismatch(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do("a")
        async def a() -> int:
            return 1

        @step.do("b")
        async def b(x: int) -> int:  # a parameter but no depends=
            return x

        return await b()


async def test_legacy_mode_needs_depends_for_parameters(wf: Harness) -> None:
    wf.start(Mismatch)
    instance = await wf.binding.create()
    status = await wf.until(instance, "complete", "errored")
    assert status["error"] == {
        "name": "TypeError",
        "message": "Step has 1 non-ctx parameter(s) but no 'depends' list provided",
    }


class Concurrent(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do("slow")
        async def slow() -> str:
            await asyncio.sleep(0.05)
            return "s"

        @step.do("fast")
        async def fast() -> str:
            return "f"

        @step.do("join", depends=[slow, fast], concurrent=True)
        async def join(a: str, b: str) -> str:
            return a + b

        return await join()


async def test_legacy_depends_concurrent(wf: Harness) -> None:
    wf.start(Concurrent)
    instance = await wf.binding.create()
    assert (await wf.until(instance, "complete", "errored"))["output"] == "sf"


def test_config_validation_and_defaults() -> None:
    default = resolve_config("s", None)
    assert default["retries"] == {"limit": 5, "delay": 1000.0, "backoff": "exponential"}
    assert default["timeout"] == "10 minutes" and default["_timeout_ms"] == 600_000
    for bad in (
        {"retries": {"limit": 1}},  # delay is required with retries
        {"retries": {"limit": 1, "delay": "soon"}},
        {"retries": {"limit": 1, "delay": 1, "backoff": "random"}},
        {"timeout": 0},
        {"bogus": 1},
    ):
        with pytest.raises(WorkflowFatalError, match='Step config for "s" is in a invalid format'):
            resolve_config("s", bad)


def test_retry_delays_by_backoff() -> None:
    exp = resolve_config("s", {"retries": {"limit": 3, "delay": "1 second"}})
    assert [retry_delay_ms(exp, n) for n in (1, 2, 3)] == [1000, 2000, 4000]
    lin = resolve_config("s", {"retries": {"limit": 3, "delay": 100, "backoff": "linear"}})
    assert [retry_delay_ms(lin, n) for n in (1, 2, 3)] == [100, 200, 300]


def test_durations() -> None:
    assert durations.to_ms(250) == 250
    assert durations.to_ms("10 seconds") == 10_000
    assert durations.to_ms("1 day") == 86_400_000
    assert durations.to_ms("2 minutes") == 120_000
    with pytest.raises(ValueError, match="invalid duration"):
        durations.to_ms("eventually")
