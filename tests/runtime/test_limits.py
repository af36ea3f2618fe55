"""``limits.run_invocation``: one call run as its own metered invocation, its CPU overrun mapped
to the caller's error (the Durable Object, queue and Workflow paths use it; their end-to-end
behaviour is pinned in ``tests/fidelity/test_limits_invocations.py`` and
``tests/bindings/workflows/test_step_limits.py``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from wranglerpy.config.limits import Limits
from wranglerpy.runtime import limits

TIGHT = Limits(cpu_ms=20, subrequests=2)


class Mapped(Exception):
    """The caller's own error for a call stopped at its CPU limit."""


def spin(seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


async def test_the_call_runs_with_its_own_budget_and_the_caller_gets_its_back() -> None:
    outer = limits.Invocation(1.0, 100)
    token = limits._current.set(outer)
    seen: list[limits.Invocation | None] = []

    async def call() -> str:
        seen.append(limits.current())
        await asyncio.sleep(0)
        return "done"

    try:
        assert await limits.run_invocation(TIGHT, call, Mapped) == "done"
        assert limits.current() is outer
    finally:
        limits._current.reset(token)
    inner = seen[0]
    assert inner is not None and inner is not outer
    assert (inner.cpu_limit, inner.max_subrequests) == (0.02, 2)


async def test_a_synchronous_call_is_run_and_its_value_returned() -> None:
    assert await limits.run_invocation(TIGHT, lambda: 42, Mapped) == 42


async def test_the_subrequest_budget_is_the_invocations() -> None:
    def call() -> None:
        limits.count_subrequest(3)

    with pytest.raises(Exception, match=limits.TOO_MANY_SUBREQUESTS):
        await limits.run_invocation(TIGHT, call, Mapped)


async def test_a_call_over_its_cpu_time_raises_the_callers_error() -> None:
    made: list[Mapped] = []

    def exceeded() -> BaseException:
        made.append(Mapped("over"))
        return made[-1]

    with pytest.raises(Mapped) as raised:
        await limits.run_invocation(TIGHT, lambda: spin(5), exceeded)
    assert raised.value is made[0] and len(made) == 1
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_another_error_of_the_call_is_not_mapped() -> None:
    def call() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        await limits.run_invocation(TIGHT, call, Mapped)


async def test_a_task_stopped_at_the_limit_fails_the_invocation_once_settled() -> None:
    tasks: list[asyncio.Task[Any]] = []

    async def burn() -> None:
        await asyncio.sleep(0)
        spin(5)

    def call() -> str:
        tasks.append(asyncio.ensure_future(burn()))  # as ctx.waitUntil starts it
        return "answered"

    async def settle() -> None:
        await asyncio.gather(*tasks, return_exceptions=True)

    with pytest.raises(Mapped):
        await limits.run_invocation(TIGHT, call, Mapped, settle=settle)
    assert isinstance(tasks[0].exception(), limits.CpuLimitExceeded)


async def test_without_settle_the_answer_does_not_wait_for_its_tasks() -> None:
    release = asyncio.Event()

    async def background() -> None:
        await release.wait()

    tasks: list[asyncio.Task[None]] = []

    def call() -> str:
        tasks.append(asyncio.ensure_future(background()))
        return "answered"

    assert await limits.run_invocation(TIGHT, call, Mapped) == "answered"
    assert not tasks[0].done()
    release.set()
    await tasks[0]
