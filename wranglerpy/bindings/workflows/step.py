"""``step`` as Python workflow code sees it: the decorator form of ``step.do`` with
dependencies, plus ``sleep``, ``sleep_until`` and ``wait_for_event``.

The decorator rules follow workerd src/pyodide/internal/workers-api/src/workers/_workers.py
(``_WorkflowStepWrapper``): by default (``depends=``) a step's non-``ctx`` parameters receive
the results of the steps listed in ``depends``, resolved one after another or together with
``concurrent=True``; with the ``python_workflows_implicit_dependencies`` compatibility flag
(on by default for compatibility dates from 2026-02-25, see workerd
src/workerd/io/compatibility-date.capnp) parameters name the steps they depend on instead.
A dependency's result is computed once per run and shared.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from wranglerpy.bindings.workflows import durations
from wranglerpy.bindings.workflows.steps import StepRunner
from wranglerpy.config.compat_date import effective_date

IMPLICIT_FLAG = "python_workflows_implicit_dependencies"
IMPLICIT_OFF_FLAG = "no_python_workflows_implicit_dependencies"
IMPLICIT_DATE = "2026-02-25"


def implicit_dependencies(flags: tuple[str, ...], compatibility_date: str | None) -> bool:
    if IMPLICIT_OFF_FLAG in flags:
        return False
    return IMPLICIT_FLAG in flags or effective_date(compatibility_date) >= IMPLICIT_DATE


class _Ctx:
    """Marks the ``ctx`` parameter: it receives the step's context, not a dependency."""


CTX = _Ctx()


class WorkflowStep:
    def __init__(self, runner: StepRunner, *, implicit: bool = False) -> None:
        self._runner = runner
        self._memo: dict[str, Any] = {}
        self._in_flight: dict[str, asyncio.Task[Any]] = {}
        self.step_closures: dict[str, Any] = {}
        self.do = self._do_implicit if implicit else self._do_legacy

    def _do_legacy(
        self, name: Any, depends: Any = None, concurrent: bool = False, config: Any = None
    ) -> Callable[[Callable[..., Any]], Any]:
        return self._decorator(name, depends, concurrent, config, implicit=False)

    def _do_implicit(
        self, name: Any = None, *, concurrent: bool = False, config: Any = None
    ) -> Callable[[Callable[..., Any]], Any]:
        return self._decorator(name, None, concurrent, config, implicit=True)

    def _decorator(
        self, name: Any, depends: Any, concurrent: bool, config: Any, *, implicit: bool
    ) -> Callable[[Callable[..., Any]], Any]:
        if callable(name) and not isinstance(name, str):
            raise TypeError('step.do() is a decorator factory: use @step.do("name")')

        def decorator(func: Callable[..., Any]) -> Any:
            step_name = func.__name__ if name is None else name

            async def wrapper() -> Any:
                deps = self._dependencies(func, depends, implicit)
                if concurrent:
                    results = await asyncio.gather(*[self._resolve(d) for d in deps])
                else:
                    results = [await self._resolve(d) for d in deps]
                return await self._call(step_name, config, func, list(results))

            wrapper._step_name = step_name  # type: ignore[attr-defined]
            self.step_closures[step_name] = wrapper
            return wrapper

        return decorator

    def _dependencies(self, func: Callable[..., Any], depends: Any, implicit: bool) -> list[Any]:
        params = list(inspect.signature(func).parameters.values())
        out: list[Any] = []
        if implicit:
            for p in params:
                if p.name in self.step_closures:
                    out.append(self.step_closures[p.name])
                elif p.name == "ctx":
                    out.append(CTX)
                else:
                    raise TypeError(f"Received unexpected parameter {p.name}")
            return out
        others = [p for p in params if p.name != "ctx"]
        if depends is None and others:
            raise TypeError(
                f"Step has {len(others)} non-ctx parameter(s) but no 'depends' list provided"
            )
        if depends is not None and len(depends) != len(others):
            raise TypeError(
                f"Step declares {len(others)} non-ctx parameter(s) but 'depends' has "
                f"{len(depends)} item(s)"
            )
        pending = list(depends or [])
        for p in params:
            out.append(CTX if p.name == "ctx" else pending.pop(0))
        return out

    async def _resolve(self, dep: Any) -> Any:
        if dep is CTX:
            return CTX
        name = getattr(dep, "_step_name", None)
        if name is None:
            raise TypeError(f"{dep!r} in depends is not a step (decorate it with @step.do)")
        if name in self._memo:
            return self._memo[name]
        if name in self._in_flight:
            return await self._in_flight[name]
        return await dep()

    async def _call(self, name: str, config: Any, func: Callable[..., Any], deps: list[Any]) -> Any:
        has_ctx = any(d is CTX for d in deps)

        def callback(ctx: Any = None) -> Any:
            return func(*[ctx if d is CTX else d for d in deps])

        task = asyncio.ensure_future(self._runner.do(name, config, callback, has_ctx))
        self._in_flight[name] = task
        try:
            result = await task
            self._memo[name] = result
        finally:
            self._in_flight.pop(name, None)
        return result

    async def sleep(self, name: Any, duration: Any) -> None:
        try:
            ms = durations.to_ms(duration)
        except ValueError as exc:
            raise TypeError(str(exc)) from None
        await self._runner.sleep_until(name, self._runner_now() + ms / 1000, from_duration=True)

    async def sleep_until(self, name: Any, timestamp: Any) -> None:
        when = durations.to_timestamp(timestamp)
        await self._runner.sleep_until(name, when, from_duration=False)

    async def wait_for_event(
        self, name: Any, event_type: Any = None, /, timeout: Any = "24 hours", **kwargs: Any
    ) -> Any:
        # workers-py passes (name, event_type, timeout=); the JS form passes an options object.
        if isinstance(event_type, dict):
            options = event_type
            event_type, timeout = options.get("type"), options.get("timeout", timeout)
        event_type = kwargs.get("type", event_type)
        return await self._runner.wait_for_event(name, event_type, timeout)

    # JS spellings reach the same methods (the Python SDK forwards unknown names to JS).
    def sleepUntil(self, name: Any, timestamp: Any) -> Any:  # noqa: N802
        return self.sleep_until(name, timestamp)

    def waitForEvent(self, name: Any, options: Any) -> Any:  # noqa: N802
        return self.wait_for_event(name, options)

    def _runner_now(self) -> float:
        return self._runner._store.now()
