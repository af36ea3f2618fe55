"""CPU cost of ``[limits]`` metering per handler call: the handler's coroutine driven as a
fetch is (``ffi.drive``), with and without an invocation budget (``limits.begin``).

    .venv/bin/python bench/limits_overhead.py        # 20000 calls a round, 9 rounds

Each call awaits ``asyncio.sleep(0)`` twice (three steps, as a handler awaiting I/O has). The
figure is the fewest CPU microseconds per call over the rounds, and the difference.
"""

from __future__ import annotations

import asyncio
import os
import time

from wranglerpy.config.limits import Limits
from wranglerpy.runtime import limits
from wranglerpy.runtime.ffi import drive

CALLS = int(os.environ.get("CALLS", "20000"))
ROUNDS = int(os.environ.get("ROUNDS", "9"))


async def handler() -> str:
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return "ok"


async def one(metered: bool) -> None:
    if metered:
        limits.begin(Limits())
    await drive(handler())


async def round_(metered: bool) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        await asyncio.create_task(one(metered))  # a task per call: a fresh context, as a request
    return (time.process_time() - started) / CALLS * 1e6


async def main() -> None:
    plain, metered = [], []
    for _ in range(ROUNDS):
        plain.append(await round_(False))
        metered.append(await round_(True))
    print(f"{CALLS} calls a round, best of {ROUNDS} rounds (CPU µs per call)")
    print(f"unmetered:  {min(plain):7.2f}")
    print(f"metered:    {min(metered):7.2f}")
    print(f"difference: {min(metered) - min(plain):7.2f}")


if __name__ == "__main__":
    asyncio.run(main())
