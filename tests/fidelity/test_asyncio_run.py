"""``asyncio.run`` and ``asyncio.Runner`` called from inside a running handler, as on Cloudflare.

- pyodide ``src/py/pyodide/webloop.py:1123-1152`` (at fa845658; added in 0.28.0 by d878eb205):
  ``asyncio.run(main)`` without a ``loop_factory``, on a running WebLoop, is
  ``loop.run_until_complete(main)``, which with ``enableRunUntilComplete`` is
  ``run_sync(future)`` (``webloop.py:384-402``).
- workerd ``src/pyodide/internal/pool/emscriptenSetup.ts:181``: ``enableRunUntilComplete: true``.
- workerd ``src/workerd/io/compatibility-date.capnp:655-659`` and ``build/python_metadata.bzl``:
  Pyodide 0.28.2 comes with ``python_workers_20250116``, implied from 2025-09-29; before, Python
  Workers run Pyodide 0.26.0a2, whose ``asyncio.run`` is CPython's.
- Pyodide does not patch ``asyncio.Runner``; CPython's ``Runner.run`` refuses to start inside a
  running loop, and WebLoop is always the running loop (``webloop.py:218-220, 350-355``).
"""

from __future__ import annotations

import asyncio

import pytest

ASYNCIO_RUN = """
import asyncio
from workers import Response, WorkerEntrypoint

async def work():
    await asyncio.sleep(0)
    return "ran to completion"

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        main = work()
        try:
            return Response(asyncio.run(main))
        except RuntimeError as exc:
            main.close()
            return Response(f"RuntimeError: {exc}")
"""


@pytest.mark.parametrize(
    ("date", "flags"),
    [("2025-09-29", ()), ("2025-09-01", ("python_workers_20250116",))],
)
async def test_asyncio_run_waits_on_the_workers_loop_with_pyodide_028(
    harness, date: str, flags: tuple[str, ...]
) -> None:
    async with harness.build(ASYNCIO_RUN, compatibility_date=date) as client:
        if flags:  # the harness has no flags argument: rebuild the worker with them
            from wranglerpy.runtime.loader import import_worker

            harness.app.loaded = import_worker(
                next(harness.tmp_path.glob("w*/worker_*.py")), date, flags
            )
        response = await client.get("/")
    assert response.text == "ran to completion"


async def test_asyncio_run_is_cpythons_error_with_pyodide_026(harness) -> None:
    async with harness.build(ASYNCIO_RUN, compatibility_date="2025-09-28") as client:
        response = await client.get("/")
    assert response.text == (
        "RuntimeError: asyncio.run() cannot be called from a running event loop"
    )


RUNNER = """
import asyncio
from workers import Response, WorkerEntrypoint

async def work():
    return "ran"

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        main = work()
        try:
            with asyncio.Runner() as runner:
                return Response(runner.run(main))
        except RuntimeError as exc:
            main.close()
            return Response(f"RuntimeError: {exc}")
"""


@pytest.mark.skipif(not hasattr(asyncio, "Runner"), reason="asyncio.Runner is Python 3.11+")
@pytest.mark.parametrize("date", ["2025-09-28", "2025-10-01"])
async def test_asyncio_runner_is_refused_on_every_version(harness, date: str) -> None:
    async with harness.build(RUNNER, compatibility_date=date) as client:
        response = await client.get("/")
    assert response.text == (
        "RuntimeError: Runner.run() cannot be called from a running event loop"
    )


async def test_asyncio_run_outside_a_handler_is_asyncios_own() -> None:
    """Only a call that could suspend changes: here (a test's running loop, no handler) it is
    CPython's error as before."""
    from wranglerpy.runtime import webloop

    webloop.install()
    main = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="cannot be called from a running event loop"):
        asyncio.run(main)
    main.close()


# ---------------------------------------------------------------------------- time.sleep
SLEEPER = """
import asyncio, time
from workers import Response, WorkerEntrypoint

others = []
sleeping = asyncio.Event()

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/other"):
            others.append("served")
            return Response("other")
        sleeping.set()
        time.sleep(0.2)  # the other request arrives meanwhile
        return Response(f"others served while sleeping: {len(others)}")
"""


@pytest.mark.parametrize(("date", "served"), [("2025-09-29", 1), ("2025-09-28", 0)])
async def test_time_sleep_in_a_handler_waits_on_the_loop_with_pyodide_028(
    harness, date: str, served: int
) -> None:
    """pyodide 0.28.2 ``src/py/pyodide/webloop.py:646-668``: ``time.sleep`` is
    ``run_sync(asyncio.sleep(t))`` where the call can suspend (a handler, with JSPI), so the
    worker's other requests go on; Pyodide 0.26 (before 2025-09-29, workerd
    ``compatibility-date.capnp:655-659``) has no such patch and the sleep blocks."""
    async with harness.build(SLEEPER, compatibility_date=date) as client:
        sleeper = asyncio.ensure_future(client.get("/"))
        await harness.app.loaded.module.sleeping.wait()  # the handler is in time.sleep
        other = await client.get("/other")
        response = await sleeper
    assert other.text == "other"
    assert response.text == f"others served while sleeping: {served}"


async def test_time_sleep_outside_a_handler_is_a_real_sleep() -> None:
    """``_sleep`` falls back to the original where ``can_run_sync()`` is false
    (pyodide 0.28.2 ``webloop.py:649-654``)."""
    import time

    from wranglerpy.runtime import webloop

    webloop.install()
    assert time.sleep is webloop._sleep
    time.sleep(0)  # no handler here: the original sleep, no "No suspender" error
