"""``[limits]`` enforced per invocation, as Cloudflare enforces them: CPU time and subrequests.

CPU time. Only time the worker's thread spends running the invocation's code counts; time
waiting on I/O does not (developers.cloudflare.com/workers/platform/limits/#cpu-time). The
invocation's code is its handler, the tasks started inside it (a loop task factory), its
``waitUntil`` work and a body streamed after the handler returned (``metered_body``). Each
resumption of that code is timed on the thread's CPU clock and charged to its invocation; a
step of another invocation inside it (a Durable Object call awaited by a handler) is charged
to that one. When the budget runs out mid-step, a watchdog thread sends ``SIGXCPU`` to the
worker's main thread and the code raises ``CpuLimitExceeded("Python Worker exceeded CPU time
limit")``, a ``BaseException`` that ``except Exception`` does not catch: the mechanism and text
of workerd's Python runtime (cloudflare/workerd ``src/pyodide/internal/introspection.py:93-102``).
The client then gets Cloudflare's error 1102, ``Worker exceeded resource limits`` (503), and
the invocation's outcome is ``exceededCpu`` (cloudflare-docs ``workers/platform/limits.mdx``,
"Error: exceeded CPU time limit").

Subrequests. Each ``fetch()`` (and each redirect it follows), service-binding call, Cache API
call and binding call (``runtime/subrequests.py``) counts; past the limit the call throws a JS
``Error``: ``Too many subrequests by single Worker invocation.``
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from wranglerpy.config.limits import Limits

CPU_EXCEEDED = "Python Worker exceeded CPU time limit"  # introspection.py:98
RESOURCE_LIMITS = "Worker exceeded resource limits"  # error 1102's message
TOO_MANY_SUBREQUESTS = "Too many subrequests by single Worker invocation."


class CpuLimitExceeded(BaseException):
    """Raised inside a handler that used up its CPU time (workerd's class of the same name)."""


class ExceededCpu(Exception):
    """An invocation stopped at its CPU limit, as the runtime loop that ran it sees it (a queue
    batch then fails and is retried)."""


@dataclass(eq=False)
class Invocation:
    """One call's budget: CPU seconds used so far and subrequests made."""

    cpu_limit: float
    max_subrequests: int
    cpu_used: float = 0.0
    subrequests: int = 0
    exceeded: bool = False  # stopped at its CPU limit (a handler, a task, a streamed body)

    def count_subrequest(self, count: int = 1) -> None:
        self.subrequests += count
        if self.subrequests > self.max_subrequests:
            from wranglerpy.runtime.ffi import JsException

            raise JsException("Error", TOO_MANY_SUBREQUESTS)


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "wranglerpy_invocation", default=None
)


def begin(limits: Limits) -> Invocation:
    """Start the budget of the call being handled in this context (one per request/RPC/cron)."""
    invocation = Invocation(limits.cpu_ms / 1000, limits.subrequests)
    _current.set(invocation)
    if _Watchdog.instance is None:
        _Watchdog.ensure()
    meter_tasks()
    return invocation


@contextlib.contextmanager
def invocation_of(limits: Limits) -> Iterator[Invocation]:
    """A call handled inside another's task (a Durable Object event, a queue batch): its own
    budget while it runs, the caller's again after."""
    invocation = Invocation(limits.cpu_ms / 1000, limits.subrequests)
    token = _current.set(invocation)
    _Watchdog.ensure()
    meter_tasks()
    try:
        yield invocation
    finally:
        _current.reset(token)


async def run_invocation(
    budget: Limits,
    call: Callable[[], Any],
    exceeded: Callable[[], BaseException],
    settle: Callable[[], Awaitable[None]] | None = None,
) -> Any:
    """``call()`` run as one invocation with its own ``budget`` (a Durable Object event, a queue
    batch, a Workflow step's attempt), its synchronous part charged too; its awaited result.

    At the CPU limit the caller's own error is raised instead of ``CpuLimitExceeded``: each
    caller fails the way Cloudflare fails that kind of call (the object is reset, the batch
    retried, the step retried). ``settle`` is awaited inside the invocation after the call (a
    queue handler's ``waitUntil`` tasks); if one of them was stopped at the limit, the
    invocation fails with ``exceeded()`` as well.
    """
    from wranglerpy.runtime.ffi import drive  # ffi imports this module

    async def called() -> Any:
        result = call()
        if inspect.isawaitable(result):
            result = await result
        return result

    with invocation_of(budget) as invocation:
        try:
            result = await drive(called())
        except CpuLimitExceeded:
            raise exceeded() from None
        if settle is not None:
            await settle()
            if invocation.exceeded:
                raise exceeded()
        return result


def current() -> Invocation | None:
    return _current.get()


def count_subrequest(count: int = 1) -> None:
    """Charge ``count`` subrequests to the current invocation (none outside a handler)."""
    invocation = _current.get()
    if invocation is not None:
        invocation.count_subrequest(count)


# ------------------------------------------------------------------------------ CPU time
class _Meter:
    """Whose CPU time the worker's thread is spending now: the invocation whose step is running
    (``None`` between steps: the runtime's own work, which is not charged) and the thread's CPU
    clock when it started being charged. Steps nest (a Durable Object call awaited inside a
    handler's step): the inner invocation is charged until it yields, then the outer again."""

    __slots__ = ("running", "since", "fired", "check_at")

    def __init__(self) -> None:
        self.running: Invocation | None = None
        self.since = 0.0
        self.fired: tuple[Invocation, float] | None = None  # the step SIGXCPU was sent for
        self.check_at = 0.0  # the watchdog looks again before the clock passes this


_meter = _Meter()


class _Watchdog:
    """Interrupts a step that outruns its invocation's budget (a busy loop never yields).

    It reads the main thread's CPU clock and ``_meter`` from its own thread. Between looks it
    sleeps as long as the running step could not have used up its budget (wall time is never
    less than CPU time), and at most ``IDLE`` seconds; a step starts by comparing its deadline
    with ``_meter.check_at`` and wakes the watchdog only when it is due sooner, so steps of
    invocations with budget to spare cost no more than that comparison.
    """

    IDLE = 0.1
    instance: _Watchdog | None = None
    unavailable = False

    def __init__(self, clock: int, main_ident: int) -> None:
        self._clock = clock
        self._main = main_ident
        self._cond = threading.Condition()
        thread = threading.Thread(target=self._run, name="wranglerpy-cpu-limit", daemon=True)
        thread.start()

    @classmethod
    def ensure(cls) -> None:
        """Start the watchdog once, from the main thread (it installs the SIGXCPU handler)."""
        if cls.instance is not None or cls.unavailable:
            return
        main = threading.main_thread()
        sigxcpu = getattr(signal, "SIGXCPU", None)
        clock_of = getattr(time, "pthread_getcpuclockid", None)
        if threading.current_thread() is not main or sigxcpu is None or clock_of is None:
            cls.unavailable = True  # steps are still charged when they end
            return
        assert main.ident is not None
        signal.signal(sigxcpu, _on_sigxcpu)
        cls.instance = cls(clock_of(main.ident), main.ident)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def _run(self) -> None:
        meter = _meter
        with self._cond:
            while True:
                now = time.clock_gettime(self._clock)
                running, since = meter.running, meter.since
                wait = self.IDLE
                if running is not None and meter.fired is None:
                    left = since + running.cpu_limit - running.cpu_used - now
                    if left > 0:
                        wait = min(wait, max(left, 0.001))
                    elif meter.running is running and meter.since == since:
                        meter.fired = (running, since)
                        signal.pthread_kill(self._main, signal.SIGXCPU)
                    else:
                        wait = 0.001  # another step started meanwhile: look at it soon
                meter.check_at = now + wait
                self._cond.wait(wait)


def _on_sigxcpu(signum: int, frame: Any) -> None:
    meter = _meter
    if frame is not None and frame.f_code in _METER_CODE:
        return  # between the step and its accounting: the step's end check fails it
    fired, meter.fired = meter.fired, None
    if fired is not None and fired == (meter.running, meter.since):
        fired[0].exceeded = True
        raise CpuLimitExceeded(CPU_EXCEEDED)  # once per step: the step it was sent for


_thread_time = time.thread_time


_SAME: Any = object()  # start_step's answer inside a step of the same invocation


def start_step(invocation: Invocation) -> Any:
    """Start charging ``invocation`` (a resumption of its code); returns what ``end_step``
    needs: the invocation charged before (``None``: the runtime), or ``_SAME`` when already
    inside a step of this invocation (then nothing is read and nothing is to end)."""
    meter = _meter
    outer = meter.running
    if outer is invocation:
        return _SAME
    started = _thread_time()
    if outer is not None:  # a call made inside another invocation's step
        outer.cpu_used += started - meter.since
    meter.running = invocation
    meter.since = started
    if started + invocation.cpu_limit - invocation.cpu_used < meter.check_at:
        wake_watchdog()
    return outer


def wake_watchdog() -> None:
    """A step is due before the watchdog would look again: make it look now."""
    watchdog = _Watchdog.instance
    if watchdog is not None:
        watchdog.wake()


def overrun(invocation: Invocation) -> None:
    """Over budget inside C code the signal could not interrupt: fail the invocation now."""
    invocation.exceeded = True
    raise CpuLimitExceeded(CPU_EXCEEDED)


def end_step(invocation: Invocation, outer: Any, check: bool = True) -> None:
    """End the step ``start_step`` began: charge it, give the CPU back to ``outer``, and fail
    the invocation if it is over budget (``check``: not while an exception is propagating)."""
    if outer is _SAME:
        return
    meter = _meter
    ended = _thread_time()
    invocation.cpu_used += ended - meter.since
    meter.running = outer
    meter.since = ended
    meter.fired = None
    if check and invocation.cpu_used > invocation.cpu_limit:
        overrun(invocation)


class _Metered:
    """An awaitable whose every resumption is timed and charged to ``invocation``."""

    __slots__ = ("_awaitable", "_invocation")

    def __init__(self, awaitable: Any, invocation: Invocation) -> None:
        self._awaitable = awaitable
        self._invocation = invocation

    def __await__(self) -> Generator[Any, Any, Any]:
        awaitable = self._awaitable
        # A task's coroutine may be a generator-based one (``types.coroutine``): no __await__.
        inner = awaitable.__await__() if hasattr(awaitable, "__await__") else awaitable
        invocation = self._invocation
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            outer = start_step(invocation)
            try:
                yielded = inner.send(to_send) if to_throw is None else inner.throw(to_throw)
            except StopIteration as stop:
                end_step(invocation, outer)
                return stop.value
            except BaseException:
                end_step(invocation, outer, check=False)
                raise
            end_step(invocation, outer)
            try:
                to_send, to_throw = (yield yielded), None
            except BaseException as exc:  # noqa: BLE001 - thrown into the handler
                to_send, to_throw = None, exc


# Where SIGXCPU must not raise: the meter's own bookkeeping (the step's end check fails it).
_METER_CODE = {
    _Metered.__await__.__code__,
    start_step.__code__,
    end_step.__code__,
    wake_watchdog.__code__,
    overrun.__code__,
}


def metered(awaitable: Any, invocation: Invocation | None = None) -> Any:
    """``awaitable`` charged to ``invocation``'s CPU budget (the current one by default; as is
    outside an invocation)."""
    if invocation is None:
        invocation = _current.get()
        if invocation is None:
            return awaitable
    return _Metered(awaitable, invocation)


async def _run_metered(awaitable: Any, invocation: Invocation) -> Any:
    return await _Metered(awaitable, invocation)


def metered_body(
    chunks: AsyncIterator[bytes], invocation: Invocation | None
) -> AsyncIterator[bytes]:
    """A response body whose production (a stream's ``pull``, a generator) is charged to the
    invocation that returned it, after its handler returned; over the budget the stream is
    cut, as Cloudflare cuts a response whose worker is stopped. As is outside an invocation."""
    if invocation is None:
        return chunks
    return _metered_chunks(chunks, invocation)


async def _metered_chunks(
    chunks: AsyncIterator[bytes], invocation: Invocation
) -> AsyncIterator[bytes]:
    iterator = chunks.__aiter__()
    try:
        while True:
            try:
                chunk = await _Metered(iterator.__anext__(), invocation)
            except StopAsyncIteration:
                return
            except CpuLimitExceeded:
                raise BodyCutByCpuLimit(CPU_EXCEEDED) from None
            yield chunk
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


class BodyCutByCpuLimit(RuntimeError):
    """A streamed response stopped because its invocation ran out of CPU time."""


_RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # wranglerpy/


def _task_factory(previous: Any) -> Any:
    """A loop task factory: a task started inside an invocation (``asyncio.create_task``,
    ``gather``, ``ctx.waitUntil``) is charged to it, as all of the isolate's work for a call is
    on Cloudflare. The runtime's own tasks (wranglerpy's code: its connections, pumps,
    bindings) are not: on Cloudflare that work is the runtime's, outside the isolate."""

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        invocation = _current.get()
        if invocation is not None and not _runtime_code(coro):
            coro = _run_metered(coro, invocation)
        if previous is not None:
            return previous(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    factory.wranglerpy_metering = True  # type: ignore[attr-defined]
    return factory


def _runtime_code(coro: Any) -> bool:
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    return code is None or code.co_filename.startswith(_RUNTIME_DIR)


_metered_loop: asyncio.AbstractEventLoop | None = None  # the loop meter_tasks last set up


def meter_tasks() -> None:
    """Charge the tasks started inside an invocation to it, on the running loop (once)."""
    global _metered_loop
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if loop is _metered_loop:  # the usual case: one check per invocation
        return
    _metered_loop = loop
    previous = loop.get_task_factory()
    if getattr(previous, "wranglerpy_metering", False):
        return
    loop.set_task_factory(_task_factory(previous))
