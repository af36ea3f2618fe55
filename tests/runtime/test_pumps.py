"""``run_pumps``: the end of a two-way relay (the edge's and the Ray ingress's WebSockets),
with fake pumps that wait on events."""

import asyncio

import pytest

from wranglerpy.runtime.pumps import run_pumps


async def test_the_other_pump_finishes_within_the_grace() -> None:
    """The client leaves; the worker's close still goes through before the relay ends."""
    finished: list[str] = []
    release = asyncio.Event()

    async def client_side() -> None:
        finished.append("client")
        release.set()

    async def worker_side() -> None:
        await release.wait()  # delivers its close once the other side ended
        await asyncio.sleep(0)
        finished.append("worker")

    await run_pumps(client_side(), worker_side(), grace=60)
    assert finished == ["client", "worker"]


async def test_a_pump_still_running_after_the_grace_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def ends() -> None:
        return None

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await run_pumps(ends(), hangs(), grace=0)
    assert cancelled.is_set()


async def test_a_failing_pump_ends_the_relay_without_raising() -> None:
    cancelled = asyncio.Event()

    async def fails() -> None:
        raise ConnectionError("peer reset")

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await run_pumps(fails(), hangs(), grace=0)
    assert cancelled.is_set()


async def test_cancelling_the_relay_cancels_both_pumps() -> None:
    started = [asyncio.Event(), asyncio.Event()]
    cancelled: list[int] = []

    async def pump(i: int) -> None:
        started[i].set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    relay = asyncio.ensure_future(run_pumps(pump(0), pump(1)))
    await started[0].wait()
    await started[1].wait()
    relay.cancel()
    with pytest.raises(asyncio.CancelledError):
        await relay
    assert sorted(cancelled) == [0, 1]
