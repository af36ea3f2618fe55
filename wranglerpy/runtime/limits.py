"""``[limits]`` enforced per invocation, as Cloudflare enforces them: CPU time and subrequests.

CPU time. Only time the worker's thread spends running the handler counts; time waiting on I/O
does not (developers.cloudflare.com/workers/platform/limits/#cpu-time). Each resumption of the
handler's coroutine is timed on the thread's CPU clock and charged to its invocation. When the
budget runs out mid-step, a watchdog thread sends ``SIGXCPU`` to the worker's main thread and
the handler raises ``CpuLimitExceeded("Python Worker exceeded CPU time limit")``, a
``BaseException`` that ``except Exception`` does not catch: the mechanism and text of workerd's
Python runtime (cloudflare/workerd ``src/pyodide/internal/introspection.py:93-102``). The
client then gets Cloudflare's error 1102, ``Worker exceeded resource limits`` (503), and the
invocation's outcome is ``exceededCpu`` (cloudflare-docs ``workers/platform/limits.mdx``,
"Error: exceeded CPU time limit").

Subrequests. Each ``fetch()`` (and each redirect it follows), service-binding call and Cache
API call counts; past the limit the call throws a JS ``Error``:
``Too many subrequests by single Worker invocation.``
"""

from __future__ import annotations

import contextvars
import math
import signal
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from wranglerpy.config.limits import Limits

CPU_EXCEEDED = "Python Worker exceeded CPU time limit"  # introspection.py:98
RESOURCE_LIMITS = "Worker exceeded resource limits"  # error 1102's message
TOO_MANY_SUBREQUESTS = "Too many subrequests by single Worker invocation."


class CpuLimitExceeded(BaseException):
    """Raised inside a handler that used up its CPU time (workerd's class of the same name)."""


@dataclass(eq=False)
class Invocation:
    """One call's budget: CPU seconds used so far and subrequests made."""

    cpu_limit: float
    max_subrequests: int
    cpu_used: float = 0.0
    subrequests: int = 0

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
    _Watchdog.ensure()
    return invocation


def current() -> Invocation | None:
    return _current.get()


def count_subrequest(count: int = 1) -> None:
    """Charge ``count`` subrequests to the current invocation (none outside a handler)."""
    invocation = _current.get()
    if invocation is not None:
        invocation.count_subrequest(count)


# ------------------------------------------------------------------------------ CPU time
@dataclass(eq=False)
class _Step:
    invocation: Invocation
    deadline: float  # on the main thread's CPU clock
    fired: bool = False


class _Watchdog:
    """Interrupts a step that outruns its invocation's budget (a busy loop never yields).

    It sleeps until the running step could at the earliest have used its budget (wall time is
    never less than the thread's CPU time), so it costs nothing while handlers stay in budget.
    """

    instance: _Watchdog | None = None
    unavailable = False

    def __init__(self, clock: int, main_ident: int) -> None:
        self._clock = clock
        self._main = main_ident
        self._cond = threading.Condition()
        self._check_at = math.inf
        self.step: _Step | None = None
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

    def started(self, step: _Step) -> None:
        self.step = step
        if step.deadline < self._check_at:  # rare: only a step due sooner wakes the thread
            with self._cond:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                step = self.step
                if step is None or step.fired:
                    self._check_at = math.inf
                    self._cond.wait()
                    continue
                left = step.deadline - time.clock_gettime(self._clock)
                if left <= 0:
                    step.fired = True
                    signal.pthread_kill(self._main, signal.SIGXCPU)
                    continue
                self._check_at = step.deadline
                self._cond.wait(max(left, 0.001))


def _on_sigxcpu(signum: int, frame: Any) -> None:
    watchdog = _Watchdog.instance
    step = watchdog.step if watchdog is not None else None
    if step is not None and step.fired:
        watchdog.step = None  # type: ignore[union-attr]  # raise once per step
        raise CpuLimitExceeded(CPU_EXCEEDED)


class _Metered:
    """An awaitable whose every resumption is timed and charged to ``invocation``."""

    __slots__ = ("_awaitable", "_invocation")

    def __init__(self, awaitable: Any, invocation: Invocation) -> None:
        self._awaitable = awaitable
        self._invocation = invocation

    def __await__(self) -> Generator[Any, Any, Any]:
        inner = self._awaitable.__await__()
        invocation = self._invocation
        clock = time.thread_time
        step = _Step(invocation, 0.0)  # one per call, re-armed at each resumption
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            watchdog = _Watchdog.instance
            started = clock()
            if watchdog is not None:
                step.deadline = started + invocation.cpu_limit - invocation.cpu_used
                step.fired = False
                watchdog.started(step)
            try:
                if to_throw is not None:
                    yielded = inner.throw(to_throw)
                else:
                    yielded = inner.send(to_send)
            except StopIteration as stop:
                _charge(invocation, started)
                return stop.value
            except BaseException:
                _charge(invocation, started, check=False)
                raise
            _charge(invocation, started)
            try:
                to_send, to_throw = (yield yielded), None
            except BaseException as exc:  # noqa: BLE001 - thrown into the handler
                to_send, to_throw = None, exc


def _charge(invocation: Invocation, started: float, check: bool = True) -> None:
    watchdog = _Watchdog.instance
    if watchdog is not None:
        watchdog.step = None
    invocation.cpu_used += time.thread_time() - started
    if check and invocation.cpu_used > invocation.cpu_limit:
        # Over budget inside C code the signal could not interrupt: fail it now.
        raise CpuLimitExceeded(CPU_EXCEEDED)


def metered(awaitable: Any) -> Any:
    """``awaitable`` charged to the current invocation's CPU budget (as is, outside one)."""
    invocation = _current.get()
    if invocation is None:
        return awaitable
    return _Metered(awaitable, invocation)
