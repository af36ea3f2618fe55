"""Running alarms: due alarms are claimed from the shared index and handed to their object.

Cloudflare's retry policy (workerd ``server/alarm-scheduler.c++``): a failed ``alarm()`` runs
again after ``2 << backoff`` seconds (plus up to 25% jitter), at most 6 counted retries; the
handler sees ``retryCount``/``isRetry``. A successful run deletes the alarm unless the handler
set a new one. The index survives restarts, so an alarm set before one fires after it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wranglerpy.bindings.durable_objects.ids import DurableObjectId
from wranglerpy.bindings.durable_objects.metadata import DueAlarm, now_ms
from wranglerpy.runtime.entrypoint import relaxed_call

if TYPE_CHECKING:
    from wranglerpy.bindings.durable_objects.host import ObjectHost

RETRY_START_SECONDS = 2
RETRY_MAX_TRIES = 6
RETRY_BACKOFF_MAX = 9
RETRY_JITTER_FACTOR = 0.25
LEASE_MS = 60_000.0
POLL_SECONDS = 1.0


def retry_delay(backoff: int) -> float:
    """Seconds before retry number ``backoff + 1``."""
    delay = float(RETRY_START_SECONDS << min(backoff, RETRY_BACKOFF_MAX))
    return delay + random.uniform(0, RETRY_JITTER_FACTOR * delay)


class AlarmInvocationInfo:
    """What ``alarm(alarm_info)`` receives."""

    def __init__(self, retry_count: int) -> None:
        self.retryCount = retry_count
        self.isRetry = retry_count > 0

    def __repr__(self) -> str:
        return f"AlarmInvocationInfo(retryCount={self.retryCount}, isRetry={self.isRetry})"


class AlarmScheduler:
    def __init__(self, host: ObjectHost, delay: Callable[[int], float] = retry_delay) -> None:
        self._host = host
        self._delay = delay
        self._wake: asyncio.Event | None = None
        self.fired = 0

    def wake(self, when: float | None = None) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        meta = self._host.metadata
        while True:
            namespaces = self._host.namespaces()
            for alarm in meta.claim_due(namespaces, LEASE_MS):
                self._host.spawn(self._fire(alarm))
            upcoming = meta.next_run(namespaces)
            delay = POLL_SECONDS
            if upcoming is not None:
                delay = min(POLL_SECONDS, max(0.0, (upcoming - now_ms()) / 1000))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.005))
            except asyncio.TimeoutError:
                pass

    async def _fire(self, alarm: DueAlarm) -> None:
        host = self._host
        info = host.class_for_namespace(alarm.namespace)
        meta = host.metadata
        if info is None or info.cls is None:
            meta.release(alarm)
            return
        if not callable(getattr(info.cls, "alarm", None)):
            host.log_warning(
                "Attempted to run a scheduled alarm without a handler, did you remember to "
                "export an alarm() function?"
            )
            meta.delete_alarm(alarm.namespace, alarm.object_id, alarm.time_ms)
            return
        # From our own index: trusted, and possibly of a jurisdiction's namespace (another key).
        object_id = DurableObjectId(bytes.fromhex(alarm.object_id), alarm.name)
        invocation = AlarmInvocationInfo(alarm.retry)
        ok = False

        def call(instance: Any) -> Any:
            live = host.live_object(info.name, object_id)
            if live is not None:
                live.storage.alarm_running = True
            return relaxed_call(instance.alarm, invocation)

        try:
            detail = {"scheduled": {"scheduledTime": alarm.time_ms}}
            await host.run_event(info.name, object_id, "alarm", call, detail)
            ok = True
        except Exception as exc:  # noqa: BLE001 - a failing alarm is retried, and reported
            host.report_error(exc)
        finally:
            live = host.live_object(info.name, object_id)
            if live is not None:
                live.storage.alarm_running = False
            self.fired += 1
        if ok or alarm.retry >= RETRY_MAX_TRIES:
            meta.delete_alarm(alarm.namespace, alarm.object_id, alarm.time_ms)
        else:
            run_at = now_ms() + self._delay(alarm.backoff) * 1000
            meta.reschedule(alarm, run_at, alarm.retry + 1, alarm.backoff + 1)
        self.wake()
