"""WorkerPool and Spares through a fake process factory and a fake clock (no processes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.host.fakes import FakeClock, FakeFactory, settle
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.host.pool import Backoff, Spares, StartFailed, WorkerPool
from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime.spec import WorkerSpec


def spec(name: str = "api", drain: float = 5.0) -> WorkerSpec:
    config = WorkerConfig(name=name, config_path=Path(f"/p/{name}/wrangler.toml"), main=None)
    return WorkerSpec(config, Path("/state"), Path("/registry"), drain_seconds=drain)


class Recorder:
    def __init__(self, hub: LogHub) -> None:
        self.events: list[dict] = []
        hub.subscribe(self.events.append)

    def messages(self) -> list[str]:
        return [e["message"] for e in self.events if e["type"] == "system"]


def make_pool(factory: FakeFactory, clock: FakeClock, **kwargs) -> tuple[WorkerPool, Recorder]:
    hub = LogHub()
    recorder = Recorder(hub)
    pool = WorkerPool(
        "api", [7, 8], hub, spares=Spares(factory, keep=0), clock=clock, sleep=clock.sleep, **kwargs
    )
    return pool, recorder


async def test_start_loads_every_process_on_the_same_sockets():
    factory, clock = FakeFactory(), FakeClock()
    pool, _ = make_pool(factory, clock, size=3)
    await pool.start(spec())
    assert len(pool.processes) == 3
    assert all(p.fds == [7, 8] and p.name == "api" for p in pool.processes)
    assert pool.modules == frozenset({"/src/main.py"})
    await pool.stop()


async def test_a_load_error_fails_the_start_only_when_the_policy_says_so():
    factory, clock = FakeFactory(), FakeClock()
    strict, _ = make_pool(factory, clock, size=2, require_clean_load=True)
    factory.outcomes = ["ok", "load_error"]
    with pytest.raises(StartFailed) as info:
        await strict.start(spec())
    assert info.value.detail == "boom"
    assert all(p.stopping for p in factory.made)  # the one that loaded is stopped too

    lenient, _ = make_pool(factory, clock)
    factory.outcomes = ["load_error"]
    await lenient.start(spec())  # dev: the worker answers 500 with its error instead
    assert len(lenient.processes) == 1
    await lenient.stop()


async def test_a_process_that_exits_during_start_is_a_start_failure():
    factory, clock = FakeFactory(), FakeClock()
    pool, _ = make_pool(factory, clock)
    factory.outcomes = ["exit"]
    with pytest.raises(StartFailed, match="could not start"):
        await pool.start(spec())


async def test_a_crash_restarts_with_a_growing_back_off_that_resets_after_a_long_run():
    factory, clock = FakeFactory(), FakeClock()
    pool, recorder = make_pool(
        factory, clock, backoff=Backoff(first=0.5, limit=2.0, reset_after=10)
    )
    await pool.start(spec())
    clock.now += 60  # it ran a long time: the first restart is immediate
    for _ in range(4):
        pool.processes[0].crash()
        await settle()
    assert clock.slept == [0.0, 0.5, 1.0, 2.0]  # then capped at the limit
    assert len(pool.processes) == 1 and pool.processes[0] is factory.made[-1]
    assert sum("exited unexpectedly" in m for m in recorder.messages()) == 4
    await pool.stop()


async def test_a_restart_that_fails_is_tried_again_later():
    factory, clock = FakeFactory(), FakeClock()
    pool, recorder = make_pool(factory, clock, backoff=Backoff(first=1.0, limit=8.0))
    await pool.start(spec())
    factory.outcomes = ["exit", "exit", "ok"]
    pool.processes[0].crash()
    await settle(60)
    assert clock.slept == [1.0, 2.0, 4.0]
    assert len(pool.processes) == 1
    assert any("restarted" in m for m in recorder.messages())
    await pool.stop()


async def test_a_stopped_pool_does_not_restart_anything():
    factory, clock = FakeFactory(), FakeClock()
    pool, _ = make_pool(factory, clock)
    await pool.start(spec())
    (process,) = pool.processes
    await pool.stop()
    process.crash()
    await settle()
    assert len(factory.made) == 1


async def test_replace_starts_the_new_process_before_the_old_one_stops():
    factory, clock = FakeFactory(), FakeClock()
    pool, _ = make_pool(factory, clock)
    await pool.start(spec())
    (old,) = pool.processes
    await pool.replace(spec(drain=7.0))
    await settle()
    assert factory.log.index(("load", "api"), 1) < factory.log.index(("stop", old.pid))
    assert old.stop_grace == 7.0 and pool.processes == [factory.made[-1]]
    assert old.stop_handover  # it hands its keep-alive clients over (issue 18, finding 10)
    old.crash()  # an old process going away is not a crash to repair
    await settle()
    assert len(factory.made) == 2
    await pool.stop()


async def test_drain_waits_for_requests_in_flight_then_stops():
    factory, clock = FakeFactory(), FakeClock()
    pool, _ = make_pool(factory, clock)
    await pool.start(spec())
    with pool.track():
        draining = asyncio.ensure_future(pool.drain_and_stop(settle=0.0))
        await settle()
        assert not draining.done() and not pool.processes[0].stopping
    await asyncio.wait_for(draining, 5)
    assert pool.processes[0].stopping and pool.processes[0].stop_grace == 6.0


async def test_request_events_carry_the_pool_tag():
    factory, clock = FakeFactory(), FakeClock()
    pool, recorder = make_pool(factory, clock, tag={"version": "v9"})
    await pool.start(spec())
    pool.processes[0].on_event({"type": "request", "worker": "api"})
    assert recorder.events[-1]["version"] == "v9"
    await pool.stop()


async def test_spares_hand_out_a_warm_process_and_make_the_next():
    factory = FakeFactory()
    spares = Spares(factory, keep=1)
    spares.refill()
    await settle()
    (warm,) = factory.made
    assert warm.preload  # a spare imports the runtime while it waits
    assert await spares.take() is warm
    await settle()
    assert len(factory.made) == 2  # the next spare is already warming
    assert factory.made[1].preload
    await spares.close()
    assert factory.made[1].stopping


async def test_a_dead_spare_is_skipped():
    factory = FakeFactory()
    spares = Spares(factory, keep=1)
    spares.refill()
    await settle()
    factory.made[0].crash()
    taken = await spares.take()
    assert taken is not factory.made[0]
    await spares.close()


async def test_a_first_start_spawns_a_process_per_worker_and_keeps_no_spare_until_it_ends():
    factory = FakeFactory()
    spares = Spares(factory, keep=1)
    async with spares.first_start(2):
        assert len(factory.made) == 2  # both spawned at once, before any is taken
        first = await spares.take()
        second = await spares.take()
        await settle()
        assert {first, second} == set(factory.made)  # taking them made no spare
        # Each is loaded at once: it imports what its worker needs, not the whole runtime.
        assert not first.preload and not second.preload
    await settle()
    assert len(factory.made) == 3  # the reload spare follows the start
    assert factory.made[2].preload
    await spares.close()


async def test_a_process_spawned_for_a_take_without_a_spare_does_not_preload():
    """The edge keeps no spares: each process it takes is loaded at once."""
    factory = FakeFactory()
    spares = Spares(factory, keep=0)
    taken = await spares.take()
    assert taken.preload is False
    await settle()
    assert factory.made == [taken]  # keep=0: no spare made
    await spares.close()
