"""Waiting for what another process brings about, without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable

SAFETY_NET = 60.0  # seconds: only a hung run gets here, a slow machine does not


def wait_until(predicate: Callable[[], object], what: str, timeout: float = SAFETY_NET) -> None:
    """Return as soon as ``predicate()`` is true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
