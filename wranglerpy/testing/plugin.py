"""pytest plugin: the ``wranglerpy_dev`` fixture starts ``wranglerpy dev`` and stops it after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wranglerpy.testing.dev_server import DevServer


@pytest.fixture
def wranglerpy_dev() -> Iterator[Callable[..., DevServer]]:
    """A factory: ``wranglerpy_dev(*configs, **options)`` → a started ``DevServer``.

    Options are ``DevServer``'s (cwd, port, persist_to, env, extra_args, environ, timeout,
    watch). Every server started through it is stopped when the test ends.
    """
    started: list[DevServer] = []

    def start(*configs: Any, **options: Any) -> DevServer:
        server = DevServer(*configs, **options)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.close()
