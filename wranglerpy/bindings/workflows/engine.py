"""The engine loop of one workflow, run in the process of the worker that defines its class.

It claims runnable instances (queued, or running/waiting ones whose engine died) with a
lease, and runs each as a replay: ``run(event, step)`` from the top, where every completed
step returns its stored result. Between steps it checks the instance's control state, so
pause (at the next step), terminate and restart take effect. The run's end is recorded only
while the lease is still held, so two engines never both finish one instance.
Final states and error shapes follow workers-sdk packages/workflows-shared/src/engine.ts.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wranglerpy.bindings.queues.codec import clone_dumps, clone_loads
from wranglerpy.bindings.workflows.errors import (
    Interrupted,
    StepError,
    error_shape,
    is_non_retryable,
)
from wranglerpy.bindings.workflows.step import WorkflowStep
from wranglerpy.bindings.workflows.steps import OnStep, StepRunner
from wranglerpy.bindings.workflows.store import InstanceRow, WorkflowStore
from wranglerpy.config.limits import Limits
from wranglerpy.jsobject import JSObject, as_js_object

LEASE_SECONDS = 30.0
POLL_SECONDS = 0.1
MAX_RUNNING = 100

Log = Callable[[str, str], None]
NON_RETRYABLE_MESSAGE = (
    "The execution of the Workflow instance was terminated, as a step threw an "
    "NonRetryableError and it was not handled"
)


@dataclass
class EngineOptions:
    implicit_dependencies: bool = False
    step_limit: int | None = None
    lease_seconds: float = LEASE_SECONDS
    poll_seconds: float = POLL_SECONDS
    limits: Limits | None = None  # each step.do() attempt's [limits]; None: not metered


class WorkflowEngine:
    def __init__(
        self,
        store: WorkflowStore,
        workflow: str,
        make_instance: Callable[[], Any],
        log: Log,
        options: EngineOptions | None = None,
        on_step: OnStep | None = None,
    ) -> None:
        self._store = store
        self._workflow = workflow
        self._make = make_instance
        self._log = log
        self._options = options or EngineOptions()
        self._on_step = on_step
        self._stop = asyncio.Event()
        self._running: dict[str, tuple[str, asyncio.Task[None]]] = {}  # id -> (lease, task)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        opts = self._options
        last_renew = time.monotonic()
        while not self._stop.is_set():
            room = MAX_RUNNING - len(self._running)
            if room > 0:
                try:
                    claimed = self._store.claim(self._workflow, opts.lease_seconds, room)
                except Exception as exc:  # noqa: BLE001 - keep polling through a busy store
                    self._log("error", f"workflow {self._workflow}: cannot claim instances: {exc}")
                    claimed = []
                for row, lease in claimed:
                    task = asyncio.ensure_future(self._run_instance(row, lease))
                    self._running[row.id] = (lease, task)
                    task.add_done_callback(self._forget(row.id))
            if time.monotonic() - last_renew >= opts.lease_seconds / 3 and self._running:
                last_renew = time.monotonic()
                leases = [lease for lease, _ in self._running.values()]
                self._store.renew(self._workflow, leases, opts.lease_seconds)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=opts.poll_seconds)
            except asyncio.TimeoutError:
                pass
        tasks = [task for _, task in self._running.values()]
        for task in tasks:
            task.cancel()  # the instance stays claimable: another start resumes it
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for iid, (lease, _) in list(self._running.items()):
            self._store.release(self._workflow, iid, lease)

    def _forget(self, iid: str) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            self._running.pop(iid, None)

        return done

    async def _run_instance(self, row: InstanceRow, lease: str) -> None:
        wf, iid, generation = self._workflow, row.id, row.generation
        store = self._store
        waiting = 0

        def set_waiting(on: bool) -> None:
            nonlocal waiting
            waiting += 1 if on else -1
            status = "waiting" if waiting > 0 else "running"
            state = store.control(wf, iid)
            if state is not None and state[0] in ("running", "waiting"):
                store.set_status(wf, iid, status)

        async def checkpoint() -> None:
            state = store.control(wf, iid)
            if state is None or state[2] != lease or state[1] != generation:
                raise Interrupted("lease lost or instance restarted")
            if state[0] in ("paused", "terminated"):
                raise Interrupted(state[0])
            if state[0] == "queued":  # resumed before this run noticed the pause: go on
                store.set_status(wf, iid, "waiting" if waiting > 0 else "running")

        runner = StepRunner(
            store,
            wf,
            iid,
            lease=lease,
            checkpoint=checkpoint,
            set_waiting=set_waiting,
            on_step=self._on_step,
            step_limit=self._options.step_limit,
            limits=self._options.limits,
        )
        step = WorkflowStep(runner, implicit=self._options.implicit_dependencies)
        event = JSObject(
            {
                "payload": as_js_object(clone_loads(row.params)),
                "timestamp": _dt.datetime.fromtimestamp(row.created_on, tz=_dt.timezone.utc),
                "instanceId": iid,
            }
        )
        fields: dict[str, Any] = {}
        if row.started_on is None:
            fields["started_on"] = store.now()
        state = store.control(wf, iid)
        if state is None or state[0] not in ("queued", "running", "waiting"):
            store.release(wf, iid, lease)
            return
        store.set_status(wf, iid, "running", **fields)
        watcher = asyncio.ensure_future(self._watch(wf, iid, lease, generation))
        run_task = asyncio.ensure_future(self._call_run(event, step))
        watcher.add_done_callback(lambda _t: run_task.cancel())
        try:
            output = await run_task
        except (Interrupted, asyncio.CancelledError):
            store.release(wf, iid, lease)
            return
        except Exception as exc:  # noqa: BLE001 - the user's run failed: the instance errors
            shape = error_shape(exc)
            if is_non_retryable(exc) or (
                isinstance(exc, StepError) and exc.name == "NonRetryableError"
            ):
                shape = {"name": "WorkflowFatalError", "message": NON_RETRYABLE_MESSAGE}
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self._log("error", f"WORKFLOW {wf} {iid} errored:\n{text.rstrip()}")
            store.finish(wf, iid, lease, "errored", None, json.dumps(shape))
            return
        finally:
            watcher.cancel()
        try:
            text_out = clone_dumps(output)
        except TypeError as exc:
            shape = {"name": "WorkflowFatalError", "message": f"Value is not serialisable: {exc}"}
            store.finish(wf, iid, lease, "errored", None, json.dumps(shape))
            return
        if store.finish(wf, iid, lease, "complete", text_out, None) and self._on_step:
            self._on_step("instance.complete", iid, "", {})

    async def _call_run(self, event: Any, step: WorkflowStep) -> Any:
        instance = self._make()
        result = instance.run(event, step)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        return result

    async def _watch(self, wf: str, iid: str, lease: str, generation: int) -> None:
        """Ends the run at once when the instance is terminated, restarted or taken over."""
        while True:
            await asyncio.sleep(self._options.poll_seconds * 2)
            state = self._store.control(wf, iid)
            if state is None or state[0] == "terminated":
                return
            if state[1] != generation or state[2] != lease:
                return
