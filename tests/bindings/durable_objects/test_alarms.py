"""Alarms: persisted in the index, fired once, retried with Cloudflare's policy
(workerd src/workerd/server/alarm-scheduler.c++: 2 s << backoff, at most 6 retries)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.bindings.durable_objects.conftest import MakeHost, namespace
from tests.waits import await_until
from wranglerpy.bindings.durable_objects.alarms import RETRY_MAX_TRIES, retry_delay
from wranglerpy.runtime.entrypoint import DurableObject

calls: list[Any] = []


class Reminder(DurableObject):
    async def remind_in(self, ms: float) -> None:
        await self.ctx.storage.setAlarm(time.time() * 1000 + ms)

    async def when(self) -> Any:
        return await self.ctx.storage.getAlarm()

    async def alarm(self, info: Any) -> None:
        calls.append((self.ctx.id.name, info.retryCount, info.isRetry))
        await self.ctx.storage.put("fired", True)
        if self.ctx.id.name == "flaky" and info.retryCount < 2:
            raise RuntimeError("not yet")
        if self.ctx.id.name == "broken":
            raise RuntimeError("never")


class NoHandler(DurableObject):
    async def remind(self) -> None:
        await self.ctx.storage.setAlarm(time.time() * 1000 + 10)


async def test_an_alarm_set_before_a_restart_fires_after_it(
    make_host: MakeHost, tmp_path: Path
) -> None:
    calls.clear()
    first = make_host(Reminder)
    stub = namespace(first, "Reminder").getByName("later")
    await stub.remind_in(300)
    assert await stub.when() is not None
    await first.stop()  # gone before the alarm is due
    assert calls == []
    second = make_host(Reminder, persist=tmp_path)
    second.start()
    await await_until(lambda: calls, "the alarm")
    assert calls == [("later", 0, False)]
    ns = namespace(second, "Reminder")
    await await_until(
        lambda: second.metadata.get_alarm("w-Reminder", ns.idFromName("later").toString()) is None,
        "the fired alarm to be cleared",
    )
    assert await ns.getByName("later").when() is None


async def test_failed_alarms_retry_with_retry_count(make_host: MakeHost) -> None:
    calls.clear()
    host = make_host(Reminder, alarm_retry_delay=lambda backoff: 0.0)
    ns = namespace(host, "Reminder")
    await ns.getByName("flaky").remind_in(0)
    await await_until(lambda: len(calls) >= 3, "three tries")
    assert calls == [("flaky", 0, False), ("flaky", 1, True), ("flaky", 2, True)]
    calls.clear()
    await ns.getByName("broken").remind_in(0)
    await await_until(lambda: len(calls) == RETRY_MAX_TRIES + 1, "every retry")
    oid = ns.idFromName("broken").toString()
    await await_until(
        lambda: host.metadata.get_alarm("w-Reminder", oid) is None, "the alarm to be dropped"
    )
    assert [c[1] for c in calls] == list(range(RETRY_MAX_TRIES + 1))


async def test_set_alarm_needs_a_handler() -> None:
    """workerd io/worker.c++ assertCanSetAlarm."""
    # Not through make_host: the error comes from the storage seam directly.
    from wranglerpy.bindings.durable_objects.storage import ObjectStorage

    storage = ObjectStorage(
        Path("/tmp") / f"no-handler-{time.time_ns()}.sqlite",
        sqlite=True,
        can_set_alarm=lambda: False,
    )
    with pytest.raises(
        TypeError, match="must have an alarm\\(\\) handler in order to call setAlarm\\(\\)"
    ):
        await storage.setAlarm(1000)
    with pytest.raises(TypeError, match="setAlarm\\(\\) cannot be called with an alarm time <= 0"):
        await storage.setAlarm(0)
    storage.close()
    storage.path.unlink()


def test_retry_delays_double_from_two_seconds() -> None:
    assert [
        2 <= retry_delay(0) <= 2.5,
        4 <= retry_delay(1) <= 5,
        1024 <= retry_delay(20) <= 1280,
    ] == [True] * 3
