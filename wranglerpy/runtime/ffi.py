"""``pyodide.ffi`` as Python Workers use it: ``to_js``, ``create_proxy``,
``create_once_callable``, ``destroy_proxies``, ``JsProxy``, ``JsException`` and ``run_sync``.

``run_sync(awaitable)`` lets synchronous code wait for an awaitable on the worker's own event
loop, as JSPI allows on Cloudflare. Locally each handler coroutine runs inside a greenlet
(``drive``); ``run_sync`` switches out to the loop, awaits there, and switches back.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import Any

from wranglerpy.jsobject import JSObject
from wranglerpy.runtime.buffers import ArrayBuffer, JsType, Uint8Array
from wranglerpy.runtime.limits import (
    _meter,
    _Metered,
    _thread_time,
    end_step,
    overrun,
    start_step,
    wake_watchdog,
)

try:
    import greenlet
except ImportError:  # pragma: no cover - greenlet is a core dependency
    greenlet = None


class JsProxy(JsType):
    """Base of every JS object seen from Python (``isinstance(x, JsProxy)``)."""


class JsException(Exception):
    """An error thrown by JavaScript: ``name`` (``"TypeError"``...) and ``message``."""

    def __init__(self, name: str = "Error", message: str = "") -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name = name
        self.message = message


class JsTypeError(JsException, TypeError):
    """A JS ``TypeError`` thrown through Pyodide: ``except JsException`` catches it as on
    Cloudflare (``e.name == "TypeError"``)."""

    def __init__(self, message: str = "") -> None:
        super().__init__("TypeError", message)


class JsRangeError(JsException, ValueError):
    """A JS ``RangeError`` thrown through Pyodide."""

    def __init__(self, message: str = "") -> None:
        super().__init__("RangeError", message)


def js_errors(func: Any) -> Any:
    """Raise what a JS API raises as Pyodide shows it: a ``JsException`` named after the JS
    error (``TypeError``/``RangeError``), still catchable as the Python type."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JsException:
            raise
        except TypeError as exc:
            raise JsTypeError(str(exc)) from None
        except ValueError as exc:
            raise JsRangeError(str(exc)) from None

    return wrapper


class JsMap(JsType, dict[Any, Any]):
    """What ``to_js(dict)`` gives without ``dict_converter``: a JS ``Map``, whose entries are
    not properties (so as an init object it sets nothing, as on Cloudflare)."""

    js_name = "Map"

    @property
    def size(self) -> int:
        return len(self)

    def has(self, key: Any) -> bool:
        return key in self

    def set(self, key: Any, value: Any) -> JsMap:
        self[key] = value
        return self

    def delete(self, key: Any) -> bool:
        return self.pop(key, _MISSING) is not _MISSING

    def to_py(self) -> dict[Any, Any]:
        return dict(self)


_MISSING = object()


def to_js(
    value: Any,
    *,
    depth: int = -1,
    pyproxies: Any = None,
    create_pyproxies: bool = True,
    dict_converter: Any = None,
    default_converter: Any = None,
    eager_converter: Any = None,
) -> Any:
    """Python → JS as Pyodide converts: buffers become ``Uint8Array``; dicts become ``Map``
    unless ``dict_converter`` is given (``Object.fromEntries`` gives an object with
    attributes); lists stay lists; JS objects pass through."""
    if isinstance(value, JsType):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Uint8Array(bytes(value))
    if depth == 0:
        return value
    if isinstance(value, dict):
        items = [
            (k, to_js(v, depth=depth - 1, dict_converter=dict_converter)) for k, v in value.items()
        ]
        if dict_converter is not None:
            return dict_converter(items)
        return JsMap(items)
    if isinstance(value, (list, tuple)):
        return [to_js(v, depth=depth - 1, dict_converter=dict_converter) for v in value]
    return value


def from_entries(entries: Any) -> JSObject:
    """``Object.fromEntries``: an object whose keys are attributes."""
    return JSObject(
        (str(k), v) for k, v in (entries.items() if isinstance(entries, dict) else entries)
    )


class _Proxy:
    """``create_proxy(f)``: callable like ``f``; ``destroy()`` makes later calls fail."""

    def __init__(self, target: Any, once: bool = False) -> None:
        self._target = target
        self._once = once
        self._destroyed = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._destroyed:
            raise RuntimeError(
                "This borrowed proxy was automatically destroyed at the end of a function "
                "call. Try using create_proxy or create_once_callable."
                if self._once
                else "Object has already been destroyed"
            )
        if self._once:
            self._destroyed = True
        return self._target(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def destroy(self) -> None:
        self._destroyed = True

    def getBuffer(self, type: str = "u8") -> _PyBuffer:  # noqa: N802 - Pyodide's name
        """The proxied buffer's bytes as a JS ``Uint8Array`` (``.data``); ``release()``."""
        return _PyBuffer(Uint8Array(bytes(memoryview(self._target))))


class _PyBuffer:
    def __init__(self, data: Uint8Array) -> None:
        self.data = data

    def release(self) -> None:
        """Nothing to release: locally the data is a copy."""


def create_proxy(obj: Any, *, capture_this: bool = False, roundtrip: bool = True) -> Any:
    return _Proxy(obj)


def create_once_callable(obj: Any, *, _may_syncify: bool = False) -> Any:
    return _Proxy(obj, once=True)


def destroy_proxies(proxies: Any) -> None:
    for proxy in list(proxies or []):
        destroy = getattr(proxy, "destroy", None)
        if destroy is not None:
            destroy()


class _Await:
    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Any) -> None:
        self.awaitable = awaitable


def can_run_sync() -> bool:
    """Whether ``run_sync`` can suspend here (Pyodide's ``pyodide.ffi.can_run_sync``): inside
    a handler's call, not at import time or in a task of its own."""
    current = greenlet.getcurrent() if greenlet is not None else None
    return current is not None and bool(getattr(current, "_wranglerpy_driver", False))


def run_sync(awaitable: Any) -> Any:
    """Block synchronous code on ``awaitable`` while the worker's loop keeps running.

    Works inside a handler (fetch, scheduled, ...), as JSPI does on Cloudflare; elsewhere it is
    ``RuntimeError("No suspender")`` as in Pyodide without a suspender.
    """
    current = greenlet.getcurrent() if greenlet is not None else None
    if current is None or not getattr(current, "_wranglerpy_driver", False):
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        raise RuntimeError("No suspender")
    kind, value = current.parent.switch(_Await(awaitable))
    if kind == "error":
        raise value
    return value


class _Driver:
    """Run a coroutine one step at a time inside a greenlet, so ``run_sync`` can leave it; each
    step is charged to ``invocation`` (``[limits] cpu_ms``), timed here rather than by a
    wrapper, one generator fewer per step."""

    def __init__(self, coroutine: Any, invocation: Any = None) -> None:
        self._coroutine = coroutine
        self._invocation = invocation

    def __await__(self) -> Generator[Any, Any, Any]:
        clock = _thread_time
        limits_meter = _meter
        start_step_wake = wake_watchdog
        coroutine = self._coroutine
        invocation = self._invocation

        def step(kind: str, value: Any) -> Any:
            # Runs in the child greenlet; each call is one send/throw of the coroutine.
            while True:
                try:
                    if kind == "throw":
                        yielded = coroutine.throw(value)
                    else:
                        yielded = coroutine.send(value)
                except StopIteration as stop:
                    return ("return", stop.value)
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                    return ("raise", exc)
                kind, value = child.parent.switch(("yield", yielded))

        def metered_resume(*args: Any) -> Any:
            # One step of the handler, charged to its invocation (start_step/end_step inlined
            # for the usual case: no other invocation's step around this one).
            meter = limits_meter
            outer = meter.running
            if outer is not None:
                outer = start_step(invocation)
                try:
                    message = child.switch(*args)
                except BaseException:
                    end_step(invocation, outer, check=False)
                    raise
                end_step(invocation, outer)
                return message
            started = clock()
            meter.running = invocation
            meter.since = started
            if started + invocation.cpu_limit - invocation.cpu_used < meter.check_at:
                start_step_wake()
            try:
                message = child.switch(*args)
            except BaseException:
                end_step(invocation, None, check=False)
                raise
            ended = clock()
            invocation.cpu_used += ended - meter.since
            meter.running = None
            meter.since = ended
            meter.fired = None
            if invocation.cpu_used > invocation.cpu_limit:
                overrun(invocation)
            return message

        child = greenlet.greenlet(step)
        child._wranglerpy_driver = True
        child.gr_context = greenlet.getcurrent().gr_context  # same contextvars as the task
        resume = child.switch if invocation is None else metered_resume
        message: Any = resume("send", None)
        while True:
            if isinstance(message, _Await):
                awaited = message.awaitable
                if invocation is not None:
                    awaited = _Metered(awaited, invocation)  # run_sync's wait: its steps count
                try:
                    result = yield from _await(awaited)
                except BaseException as exc:  # noqa: BLE001 - re-raised inside run_sync
                    message = resume(("error", exc))
                else:
                    message = resume(("ok", result))
                continue
            kind, value = message
            if kind == "return":
                return value
            if kind == "raise":
                raise value
            try:
                sent = yield value
            except BaseException as exc:  # noqa: BLE001 - thrown into the coroutine
                message = resume("throw", exc)
            else:
                message = resume("send", sent)


def _meter_code() -> None:
    # The driver's step bookkeeping is the meter's: SIGXCPU must not raise there.
    from wranglerpy.runtime import limits

    code = _Driver.__await__.__code__
    limits._METER_CODE.add(code)
    limits._METER_CODE.update(
        c for c in code.co_consts if getattr(c, "co_name", "") == "metered_resume"
    )


_meter_code()


def _await(awaitable: Any) -> Generator[Any, Any, Any]:
    return (yield from awaitable.__await__())


def drive(awaitable: Any) -> Any:
    """Wrap a handler's coroutine so ``run_sync`` works inside it (greenlet permitting), its
    CPU time charged to the invocation's ``[limits] cpu_ms``."""
    from wranglerpy.runtime import limits

    if greenlet is None or not inspect.iscoroutine(awaitable):
        return limits.metered(awaitable)
    from wranglerpy.runtime import webloop

    webloop.install()  # run_until_complete inside a handler waits as Pyodide's WebLoop does
    return _Driver(awaitable, limits.current())


__all__ = [
    "ArrayBuffer",
    "can_run_sync",
    "JsException",
    "JsMap",
    "JsProxy",
    "Uint8Array",
    "create_once_callable",
    "create_proxy",
    "destroy_proxies",
    "drive",
    "from_entries",
    "run_sync",
    "to_js",
]
