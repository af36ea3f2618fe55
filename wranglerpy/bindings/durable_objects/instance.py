"""One live object: its instance, storage, input gate and ``waitUntil`` tasks."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from wranglerpy.bindings.durable_objects.gates import InputGate
from wranglerpy.bindings.durable_objects.ids import DurableObjectId
from wranglerpy.bindings.durable_objects.paths import object_file
from wranglerpy.bindings.durable_objects.state import DurableObjectState
from wranglerpy.bindings.durable_objects.storage import ObjectStorage

if TYPE_CHECKING:
    from wranglerpy.bindings.durable_objects.host import ClassInfo, ObjectHost

ObjectKey = tuple[str, str]  # (class name, id hex)


class LiveObject:
    def __init__(self, host: ObjectHost, info: ClassInfo, object_id: DurableObjectId) -> None:
        self.host = host
        self.info = info
        self.object_id = object_id
        self.key: ObjectKey = (info.name, object_id.toString())
        self.gate = InputGate()
        self.storage = ObjectStorage(
            object_file(host.persist_dir, info.namespace, object_id.toString()),
            sqlite=info.sqlite,
            metadata=host.metadata,
            namespace=info.namespace,
            object_id=object_id.toString(),
            object_name=object_id.name,
            on_set_alarm=host.alarms.wake,
            can_set_alarm=self._has_alarm_handler,
        )
        self.state = DurableObjectState(self, object_id, self.storage)
        self.instance: Any = None
        self.inflight = 0
        self.last_used = time.monotonic()
        self.waits: set[asyncio.Future[Any]] = set()
        self.broken = False

    def _has_alarm_handler(self) -> bool:
        return self.instance is None or callable(getattr(self.instance, "alarm", None))

    def construct(self) -> None:
        cls = self.info.cls
        assert cls is not None
        self.instance = cls(self.state, self.host.env)

    def wait_until(self, task: asyncio.Future[Any]) -> None:
        self.waits.add(task)
        task.add_done_callback(self._wait_done)

    def _wait_done(self, task: asyncio.Future[Any]) -> None:
        self.waits.discard(task)
        self.last_used = time.monotonic()
        if not task.cancelled() and task.exception() is not None:
            self.host.report_error(task.exception())  # type: ignore[arg-type]
        try:
            self.storage.flush()
        except Exception as exc:  # noqa: BLE001 - a closed/broken store is reported, not raised
            self.host.report_error(exc)

    def abort(self) -> None:
        """Reset the object: drop unflushed writes and forget the instance."""
        self.broken = True
        try:
            self.storage.rollback()
        finally:
            self.host.discard(self)

    def idle_for(self, now: float) -> float | None:
        """Seconds since the last event, or None while it must stay in memory."""
        if (
            self.inflight
            or self.waits
            or self.gate.blocked
            or self.host.sockets.keeps_alive(self.key)
        ):
            return None
        return now - self.last_used

    def close(self) -> None:
        self.storage.close()
