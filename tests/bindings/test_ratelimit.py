"""The rate limiter, against miniflare's emulation (cloudflare/workers-sdk
``packages/miniflare/src/workers/ratelimit/ratelimit.worker.ts`` for option checks,
``ratelimit-object.worker.ts`` for the fixed window per (key, period))."""

import textwrap
from pathlib import Path

import pytest

from tests.bindings.conftest import NOW, Clock
from tests.bindings.processes import run_together, spawn
from wranglerpy.bindings import ratelimit
from wranglerpy.bindings.ratelimit.binding import RateLimitBinding, RateLimitError
from wranglerpy.config.schema import RateLimit


@pytest.fixture
def rl(tmp_path: Path, clock: Clock) -> RateLimitBinding:
    binding = RateLimitBinding(tmp_path / "rl.sqlite", limit=3, period=10, clock=clock)
    yield binding
    binding.close()


async def test_limit_per_key_and_window(rl: RateLimitBinding, clock: Clock) -> None:
    clock.now = NOW - NOW % 10  # the start of a window
    results = [(await rl.limit({"key": "a"})).success for _ in range(4)]
    assert results == [True, True, True, False]
    assert (await rl.limit(key="b")).success is True  # keys count apart
    clock.now += 9.9
    assert (await rl.limit({"key": "a"})).success is False
    clock.now += 0.1  # windows follow the wall clock, not the first call
    assert (await rl.limit({"key": "a"})).success is True


async def test_periods_count_apart_and_limit_can_be_overridden(rl: RateLimitBinding) -> None:
    for _ in range(3):
        await rl.limit({"key": "k"})
    assert (await rl.limit({"key": "k", "period": 60})).success is True
    assert (await rl.limit({"key": "k", "limit": 5})).success is True


async def test_key_defaults_to_empty(rl: RateLimitBinding) -> None:
    for _ in range(3):
        assert (await rl.limit({})).success is True
    assert (await rl.limit({"key": ""})).success is False


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (None, "invalid rate limit options"),
        ({"key": "a", "extra": 1}, r"bad rate limit options: \[extra\]"),
        ({"key": 5}, "invalid key: 5"),
        ({"key": "a", "limit": "x"}, "limit must be a number"),
        ({"key": "a", "period": 30}, "unsupported period: 30"),
    ],
)
async def test_bad_options(rl: RateLimitBinding, opts: object, message: str) -> None:
    with pytest.raises(RateLimitError, match=message):
        await rl.limit(opts)


COUNTER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from wranglerpy.bindings.ratelimit.binding import RateLimitBinding
    path, calls = Path(sys.argv[1]), int(sys.argv[2])
    binding = RateLimitBinding(path, limit=150, period=60, clock=lambda: 1_800_000_000.0)
    wait_for_go(path)
    async def main():
        ok = 0
        for _ in range(calls):
            ok += (await binding.limit({"key": "shared"})).success
        print(ok, flush=True)
    asyncio.run(main())
    binding.close()
    """
)


def test_processes_share_one_count(tmp_path: Path) -> None:
    """Two processes on one namespace: exactly ``limit`` calls succeed between them."""
    path = ratelimit.namespace_path(tmp_path, "1001")
    RateLimitBinding(path, 1, 60).close()  # create the file before the race
    outputs = run_together(path, [spawn(COUNTER, path, 100) for _ in range(2)])
    assert sum(int(out.strip()) for out in outputs) == 150


def test_create_uses_the_namespace_folder(tmp_path: Path) -> None:
    binding = ratelimit.create(RateLimit("RL", "ns/../x", 10, 60), tmp_path)
    try:
        assert (tmp_path / "ratelimit").is_dir()
        assert "ns%2F..%2Fx" in str(binding._store.path)
    finally:
        binding.close()
