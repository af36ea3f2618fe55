"""``env.<WORKFLOW>``: create and look up instances; the handle pauses, resumes, terminates,
restarts, sends events and reports ``status()``.

Names and messages follow workers-sdk packages/workflows-shared/src/binding.ts and the Python
wrapper in workerd src/pyodide/internal/workers-api/src/workers/_workers.py
(``create``, ``create_batch``, ``get``; ``send_event``, ``pause``, ``resume``, ``terminate``,
``restart``, ``status``). Any worker with the binding writes to the shared store; the worker
that defines the class runs the instance.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from wranglerpy.bindings.queues.codec import clone_dumps, clone_loads
from wranglerpy.bindings.workflows.errors import WorkflowError
from wranglerpy.bindings.workflows.store import FINAL, WorkflowStore
from wranglerpy.jsobject import JSObject, as_js_object

MAX_INSTANCE_ID = 100
MAX_BATCH = 100
MAX_PARAMS_BYTES = 1024 * 1024  # Cloudflare's limit on an instance's params and an event payload
_ID = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9-_]*$")


def _merge(options: Any, kwargs: dict[str, Any], what: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if options is not None:
        if not isinstance(options, Mapping):
            raise TypeError(f"{what} expects an object of options")
        merged.update(options)
    merged.update(kwargs)
    return merged


def status_shape(row_status: str, output: str | None, error: str | None) -> JSObject:
    """``{"status", "error", "output"}`` as ``instance.status()`` returns it."""
    shape = JSObject({"status": row_status})
    shape["error"] = as_js_object(json.loads(error)) if error else None
    shape["output"] = as_js_object(clone_loads(output)) if output is not None else None
    return shape


class WorkflowInstance:
    def __init__(self, store: WorkflowStore, workflow: str, iid: str) -> None:
        self._store = store
        self._workflow = workflow
        self.id = iid

    def _row(self) -> Any:
        row = self._store.get(self._workflow, self.id)
        if row is None:
            raise WorkflowError("(instance.not_found) Instance not found")
        return row

    async def status(self) -> JSObject:
        row = self._row()
        return status_shape(row.status, row.output, row.error)

    async def pause(self) -> None:
        row = self._row()
        if row.status in ("queued", "running", "waiting"):
            self._store.set_status(self._workflow, self.id, "paused")

    async def resume(self) -> None:
        row = self._row()
        if row.status == "paused":
            # Back to the queue: the engine claims it and replays to where it stopped.
            self._store.set_status(self._workflow, self.id, "queued")

    async def terminate(self, options: Any = None, **kwargs: Any) -> None:
        row = self._row()
        if row.status in FINAL:
            raise WorkflowError(
                f"(instance.not_running) Cannot terminate an instance in status {row.status}"
            )
        self._store.set_status(self._workflow, self.id, "terminated", ended_on=self._store.now())

    async def restart(self, options: Any = None, **kwargs: Any) -> None:
        self._row()
        self._store.restart(self._workflow, self.id)

    async def send_event(self, options: Any = None, **kwargs: Any) -> None:
        opts = _merge(options, kwargs, "send_event()")
        event_type = opts.get("type")
        if not isinstance(event_type, str) or not event_type:
            raise TypeError('send_event() needs a "type" (a non-empty string)')
        row = self._row()
        if row.status in FINAL:
            raise WorkflowError(
                f"(instance.not_running) Cannot send an event to an instance in status {row.status}"
            )
        payload = clone_dumps(opts.get("payload"))
        if len(payload.encode()) > MAX_PARAMS_BYTES:
            raise WorkflowError("The event payload is larger than 1 MiB")
        self._store.send_event(self._workflow, self.id, event_type, payload)

    sendEvent = send_event  # noqa: N815 - the JS spelling

    def __repr__(self) -> str:
        return f"<WorkflowInstance {self._workflow}/{self.id}>"


class WorkflowBinding:
    def __init__(self, store: WorkflowStore, workflow: str) -> None:
        self._store = store
        self.workflow_name = workflow

    def _prepare(self, options: Any, kwargs: dict[str, Any]) -> tuple[str, str]:
        opts = _merge(options, kwargs, "create()")
        iid = opts.get("id")
        if iid is None:
            iid = str(uuid.uuid4())
        if not isinstance(iid, str) or len(iid) > MAX_INSTANCE_ID or not _ID.match(iid):
            raise WorkflowError("Workflow instance has invalid id")
        params = opts.get("params")
        try:
            text = clone_dumps({} if params is None else params)
        except TypeError as exc:
            raise TypeError(f"Workflow params could not be serialized: {exc}") from None
        if len(text.encode()) > MAX_PARAMS_BYTES:
            raise WorkflowError(f"Workflow params of instance {iid} are larger than 1 MiB")
        return iid, text

    async def create(self, options: Any = None, **kwargs: Any) -> WorkflowInstance:
        iid, params = self._prepare(options, kwargs)
        taken = self._store.create(self.workflow_name, [(iid, params)])
        if taken:
            raise WorkflowError(f"(instance.already_exists) Instance {iid} already exists")
        return WorkflowInstance(self._store, self.workflow_name, iid)

    async def create_batch(self, batch: Any) -> list[WorkflowInstance]:
        items = list(batch)
        if not items:
            raise WorkflowError("WorkflowError: batchCreate should have at least 1 instance")
        if len(items) > MAX_BATCH:
            raise WorkflowError(
                f"WorkflowError: batchCreate supports at most {MAX_BATCH} instances"
            )
        prepared = [self._prepare(item, {}) for item in items]
        ids = [iid for iid, _ in prepared]
        if len(set(ids)) != len(ids):
            raise WorkflowError("(instance.already_exists) Duplicate instance ids in the batch")
        taken = self._store.create(self.workflow_name, prepared)
        if taken:
            raise WorkflowError(f"(instance.already_exists) Instance {taken[0]} already exists")
        return [WorkflowInstance(self._store, self.workflow_name, iid) for iid in ids]

    createBatch = create_batch  # noqa: N815 - the JS spelling

    async def get(self, iid: Any) -> WorkflowInstance:
        if not isinstance(iid, str) or self._store.get(self.workflow_name, iid) is None:
            raise WorkflowError("instance.not_found")
        return WorkflowInstance(self._store, self.workflow_name, iid)

    def close(self) -> None:
        self._store.close()

    def __repr__(self) -> str:
        return f"<Workflow binding for {self.workflow_name!r}>"
