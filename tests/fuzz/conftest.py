"""Shared settings for the fuzz suite: bounded example counts, no deadline, no example database.

Every fuzz test asserts three things about hostile input: only a documented error type comes
out (``WranglerError`` and its children, never a traceback), nothing hangs (each test has a
``timeout`` marker and each binding call a time limit), and no file descriptor is left open.
``WRANGLERPY_FUZZ_EXAMPLES`` raises the example count for a longer local run.

The default run is derandomized: every run tries the same examples, so the test command gives
the same verdict on every machine and CI never turns red on a lucky draw. A local hunt sets
``WRANGLERPY_FUZZ_RANDOM=1`` to explore new inputs; each find is pinned with ``@example``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("WRANGLERPY_FUZZ_EXAMPLES", "150"))

settings.register_profile(
    "wranglerpy-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    derandomize=os.environ.get("WRANGLERPY_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings.get_profile("wranglerpy-fuzz")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else set()


@pytest.fixture
def no_fd_leak() -> Iterator[None]:
    """Fail the test if it leaves file descriptors open."""
    before = open_fds()
    yield
    leaked = open_fds() - before
    # Listing /proc/self/fd opens one descriptor of its own, closed again by then.
    assert not leaked, f"file descriptors left open: {sorted(leaked)}"
