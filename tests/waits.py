"""Waiting for what another process (or task) brings about, without fixed sleeps."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

SAFETY_NET = 60.0  # seconds: only a hung run gets here, a slow machine does not
POLL = 0.01  # seconds between two looks: how soon a condition is seen, not a wait for it

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], what: str, timeout: float = SAFETY_NET) -> T:
    """Return ``predicate()``'s value as soon as it is true; fail naming ``what`` after
    ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)
    return value


@overload
async def await_until(
    check: Callable[[], Awaitable[T]], what: str, timeout: float = SAFETY_NET
) -> T: ...
@overload
async def await_until(check: Callable[[], T], what: str, timeout: float = SAFETY_NET) -> T: ...
async def await_until(
    check: Callable[[], object], what: str, timeout: float = SAFETY_NET
) -> object:
    """``wait_until`` for a test on an event loop: ``check`` may be a plain or an async
    function, and the loop keeps running (other tasks make progress) between two looks."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)
