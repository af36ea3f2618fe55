"""The durable step primitives one run of an instance uses: ``do``, ``sleep``, ``wait_for_event``.

Each step has a key ``<name>-<n>`` (the n-th step of that name in this run), as in workers-sdk
packages/workflows-shared/src/context.ts. A completed step's result is stored under its key,
so a replay after a restart returns it without running the callback again; a sleep stores its
wake-up time, so it ends at the same moment after a restart. Defaults, limits and messages
follow context.ts and lib/validators.ts: 5 retries, a 1 s exponential delay and a 10 minute
timeout per attempt; step names up to 256 characters without control characters.

Each attempt of a ``do`` callback is an invocation with the worker's ``[limits]`` (CPU time
and subrequests), as Cloudflare meters Workflows: "Compute time per step", 30 s by default
and raised with ``limits.cpu_ms`` for every invocation of the Workflow (cloudflare-docs
``workflows/reference/limits.mdx``, "Increasing Workflow CPU limits"). An attempt over its
budget fails with ``Error: Worker exceeded CPU time limit.`` (the same page), an ordinary step
failure: retried per the step's ``retries``, as packages/workflows-shared/src/context.ts
retries any failed attempt that is not a NonRetryableError.

``run()``'s own code between steps is not metered: the docs bound CPU "per step" only (the same
page, footnote: an instance "can run forever, as long as each step does not take more than the
CPU time limit"), and the local engine (packages/workflows-shared/src/engine.ts, which calls
``USER_WORKFLOW.run``) has no CPU accounting; no rule is invented here.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from wranglerpy.bindings.queues.codec import clone_dumps, clone_loads
from wranglerpy.bindings.workflows import durations
from wranglerpy.bindings.workflows.errors import (
    Interrupted,
    StepError,
    WorkflowFatalError,
    WorkflowTimeoutError,
    error_shape,
    is_non_retryable,
)
from wranglerpy.bindings.workflows.store import WorkflowStore
from wranglerpy.config.limits import Limits
from wranglerpy.jsobject import JSObject, as_js_object

MAX_STEP_NAME = 256
WORKER_EXCEEDED_CPU = "Worker exceeded CPU time limit."  # workflows/reference/limits.mdx
MAX_RESULT_BYTES = 1024 * 1024
DEFAULT_LIMIT = 5
DEFAULT_DELAY_MS = 1000.0
DEFAULT_TIMEOUT = "10 minutes"
DEFAULT_EVENT_TIMEOUT = "24 hours"
EVENT_POLL_SECONDS = 0.1
_CONTROL = re.compile(r"[\x00-\x1f]")
_BACKOFFS = ("constant", "linear", "exponential")

Checkpoint = Callable[[], Awaitable[None]]
OnStep = Callable[[str, str, str, dict[str, Any]], None]  # (event, instance, step key, details)


def _config_error(name: str) -> WorkflowFatalError:
    return WorkflowFatalError(
        f'Step config for "{name}" is in a invalid format. '
        "See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/"
    )


def resolve_config(name: str, config: Any) -> dict[str, Any]:
    """The step's config merged over the defaults; a bad one is a fatal error."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping) or set(config) - {"retries", "timeout", "sensitive"}:
        raise _config_error(name)
    retries = config.get("retries")
    merged = {"limit": DEFAULT_LIMIT, "delay": DEFAULT_DELAY_MS, "backoff": "exponential"}
    if retries is not None:
        if not isinstance(retries, Mapping) or set(retries) - {"limit", "delay", "backoff"}:
            raise _config_error(name)
        if "limit" not in retries or "delay" not in retries:
            raise _config_error(name)
        merged.update(retries)
    limit = merged["limit"]
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0:
        raise _config_error(name)
    if merged["backoff"] not in _BACKOFFS:
        raise _config_error(name)
    try:
        delay_ms = durations.to_ms(merged["delay"])
        timeout_ms = durations.to_ms(config.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        raise _config_error(name) from None
    if timeout_ms == 0:
        raise _config_error(name)
    return {
        "retries": {"limit": int(limit), "delay": merged["delay"], "backoff": merged["backoff"]},
        "timeout": config.get("timeout", DEFAULT_TIMEOUT),
        "_delay_ms": delay_ms,
        "_timeout_ms": timeout_ms,
    }


def retry_delay_ms(config: dict[str, Any], attempt: int) -> float:
    """Delay after failed attempt ``attempt`` (1-based), as lib/retries.ts computes it."""
    base = float(config["_delay_ms"])
    backoff = config["retries"]["backoff"]
    if backoff == "exponential":
        return base * 2 ** (attempt - 1)
    if backoff == "linear":
        return base * attempt
    return base


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or len(name) > MAX_STEP_NAME or _CONTROL.search(name):
        raise WorkflowFatalError(
            f'Step name "{name}" exceeds max length ({MAX_STEP_NAME} chars) or invalid '
            "characters found"
        )
    return name


class StepRunner:
    """The engine side of ``step``: durable, keyed, replayable."""

    def __init__(
        self,
        store: WorkflowStore,
        workflow: str,
        instance: str,
        *,
        lease: str,
        checkpoint: Checkpoint,
        set_waiting: Callable[[bool], None],
        on_step: OnStep | None = None,
        step_limit: int | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._store = store
        self._workflow = workflow
        self._instance = instance
        self._lease = lease
        self._checkpoint = checkpoint
        self._set_waiting = set_waiting
        report = on_step or (lambda *_: None)
        self._on_step = lambda event, key, details: report(event, instance, key, details)
        self._counts: dict[str, int] = {}
        self._steps = 0
        self._limit = step_limit
        self._limits = limits

    def _put(self, key: str, name: str, kind: str, state: str, **fields: Any) -> None:
        stored = self._store.put_step(
            self._workflow, self._instance, key, name, kind, state, lease=self._lease, **fields
        )
        if not stored:
            raise Interrupted("this run no longer holds the instance")

    def _key(self, prefix: str, name: str) -> str:
        n = self._counts.get(prefix + name, 0) + 1
        self._counts[prefix + name] = n
        self._steps += 1
        if self._limit is not None and self._steps > self._limit:
            raise WorkflowFatalError(
                f"The limit of {self._limit} steps has been reached. This limit can be changed "
                "in your worker configuration."
            )
        return f"{name}-{n}" if not prefix else f"{prefix}{name}-{n}"

    async def do(self, name: Any, config: Any, callback: Callable[..., Any], ctx_arg: bool) -> Any:
        name = _check_name(name)
        if not callable(callback):
            raise WorkflowFatalError(f'Step "{name}" requires a callback function')
        resolved = resolve_config(name, config)
        key = self._key("", name)
        stored = self._store.step(self._workflow, self._instance, key)
        if stored is not None and stored.state == "done":
            return clone_loads(stored.result or "null")
        if stored is not None and stored.state == "failed":
            shape = json.loads(stored.error or "{}")
            raise StepError(shape.get("name", "Error"), shape.get("message", ""))
        await self._checkpoint()
        attempts = stored.attempts if stored is not None else 0
        limit = resolved["retries"]["limit"]
        public_config = JSObject(
            {"retries": JSObject(resolved["retries"]), "timeout": resolved["timeout"]}
        )
        self._on_step("step.start", key, {"name": name})
        while True:
            attempts += 1
            self._put(key, name, "do", "running", attempts=attempts)
            try:
                args: tuple[Any, ...] = ()
                if ctx_arg:
                    step_ctx = {"step": {"name": name, "count": int(key.rsplit("-", 1)[1])}}
                    args = (
                        as_js_object({**step_ctx, "attempt": attempts, "config": public_config}),
                    )
                result = await asyncio.wait_for(
                    _attempt(callback, args, self._limits), timeout=resolved["_timeout_ms"] / 1000
                )
            except asyncio.TimeoutError:
                error: BaseException = WorkflowTimeoutError(
                    f"Execution timed out after {resolved['_timeout_ms']:.0f}ms"
                )
            except Exception as exc:  # noqa: BLE001 - the user's step failed: retry or give up
                error = exc
            else:
                try:
                    text = clone_dumps(result)
                except TypeError as exc:
                    raise WorkflowFatalError(f"Value is not serialisable: {exc}") from None
                if len(text.encode()) > MAX_RESULT_BYTES:
                    raise WorkflowFatalError(
                        f'Step "{name}" returned more than 1 MiB; store big results elsewhere'
                    )
                self._put(key, name, "do", "done", attempts=attempts, result=text)
                self._on_step("step.success", key, {"name": name, "attempts": attempts})
                return result
            shape = error_shape(error)
            retry = not is_non_retryable(error) and attempts <= limit
            self._on_step(
                "step.attempt_failure", key, {"name": name, "attempt": attempts, "error": shape}
            )
            if not retry:
                self._put(key, name, "do", "failed", attempts=attempts, error=json.dumps(shape))
                self._on_step("step.failure", key, {"name": name, "error": shape})
                raise error
            await asyncio.sleep(retry_delay_ms(resolved, attempts) / 1000)
            await self._checkpoint()

    async def sleep_until(self, name: Any, when: float, *, from_duration: bool) -> None:
        name = _check_name(name)
        key = self._key("sleep-", name)
        stored = self._store.step(self._workflow, self._instance, key)
        if stored is not None and stored.state == "done":
            return
        await self._checkpoint()
        if stored is not None and stored.until is not None:
            when = stored.until  # the wake-up time chosen before a restart stands
        elif not from_duration and when < self._store.now():
            raise ValueError("You can't sleep until a time in the past, time-traveler")
        else:
            self._put(key, name, "sleep", "running", until=when)
        self._on_step("sleep.start", key, {"name": name, "until": when})
        # "waiting" while asleep; an interrupted sleep leaves it so (it resumes after a restart).
        self._set_waiting(True)
        while (remaining := when - self._store.now()) > 0:
            await asyncio.sleep(min(remaining, 1.0))
            await self._checkpoint()
        self._set_waiting(False)
        self._put(key, name, "sleep", "done", until=when)
        self._on_step("sleep.complete", key, {"name": name})

    async def wait_for_event(self, name: Any, event_type: Any, timeout: Any) -> JSObject:
        name = _check_name(name)
        if not isinstance(event_type, str) or not event_type:
            raise WorkflowFatalError(f'wait_for_event "{name}" needs an event type (a string)')
        key = self._key("waitForEvent-", name)
        stored = self._store.step(self._workflow, self._instance, key)
        if stored is not None and stored.state == "done":
            return _event(stored.result)
        if stored is not None and stored.state == "failed":
            shape = json.loads(stored.error or "{}")
            raise WorkflowTimeoutError(shape.get("message", "Execution timed out"))
        await self._checkpoint()
        timeout_ms = durations.to_ms(timeout or DEFAULT_EVENT_TIMEOUT)
        deadline = (
            stored.until
            if stored is not None and stored.until
            else (self._store.now() + timeout_ms / 1000)
        )
        self._put(key, name, "wait", "running", until=deadline)
        self._on_step("wait.start", key, {"name": name, "type": event_type})
        self._set_waiting(True)
        while True:
            found = self._store.take_event(self._workflow, self._instance, event_type, key)
            if found is not None:
                payload, stamp = found
                result = json.dumps({"payload": payload, "timestamp": stamp, "type": event_type})
                self._put(key, name, "wait", "done", result=result)
                self._on_step("wait.complete", key, {"name": name, "type": event_type})
                self._set_waiting(False)
                return _event(result)
            if self._store.now() >= deadline:
                message = f"Execution timed out after {timeout_ms:.0f}ms"
                error = json.dumps({"name": "WorkflowTimeoutError", "message": message})
                self._put(key, name, "wait", "failed", error=error)
                self._on_step("wait.timed_out", key, {"name": name})
                self._set_waiting(False)
                raise WorkflowTimeoutError(message)
            await asyncio.sleep(EVENT_POLL_SECONDS)
            await self._checkpoint()


def _event(stored: str | None) -> JSObject:
    import datetime as _dt

    data = json.loads(stored or "{}")
    return JSObject(
        {
            "payload": clone_loads(data["payload"]),
            "timestamp": _dt.datetime.fromtimestamp(data["timestamp"], tz=_dt.timezone.utc),
            "type": data["type"],
        }
    )


async def _attempt(
    callback: Callable[..., Any], args: tuple[Any, ...], budget: Limits | None
) -> Any:
    """One attempt of a step's callback, as its own invocation with ``budget``."""
    if budget is None:
        return await _call(callback, *args)
    from wranglerpy.runtime import limits
    from wranglerpy.runtime.ffi import JsException

    return await limits.run_invocation(
        budget,
        lambda: callback(*args),
        lambda: JsException("Error", WORKER_EXCEEDED_CPU),  # the step is retried
    )


async def _call(callback: Callable[..., Any], *args: Any) -> Any:
    result = callback(*args)
    if inspect.isawaitable(result):
        result = await result
    return result
