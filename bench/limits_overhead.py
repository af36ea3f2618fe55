"""CPU cost of ``[limits]`` metering per handler call: the handler's coroutine driven as a
fetch is (``ffi.drive``), with and without an invocation budget (``limits.begin``).

    .venv/bin/python bench/limits_overhead.py                 # 20000 calls a round, 9 rounds
    BASELINE=e241b86 .venv/bin/python bench/limits_overhead.py  # and that commit's meter too

Each call awaits ``asyncio.sleep(0)`` twice (three steps, as a handler awaiting I/O has). The
figure is the fewest CPU microseconds per call over the rounds, and the difference. With
``BASELINE`` (a git revision), that revision's ``runtime/limits.py`` is loaded beside the
current one and measured in the same rounds, so both figures share the machine's load.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from wranglerpy.config.limits import Limits
from wranglerpy.runtime import limits
from wranglerpy.runtime.ffi import drive

CALLS = int(os.environ.get("CALLS", "20000"))
ROUNDS = int(os.environ.get("ROUNDS", "9"))
BASELINE = os.environ.get("BASELINE")


def load_baseline(revision: str, name: str) -> ModuleType:
    """``wranglerpy/runtime/<name>.py`` as it was at ``revision``, as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{revision}:wranglerpy/runtime/{name}.py"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="limits-baseline-"))
    path = folder / f"{name}_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"{name}_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"{name}_baseline"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def handler() -> str:
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return "ok"


Meter = tuple[ModuleType, Any] | None  # (limits module, its drive function), None: unmetered


async def one(meter: Meter) -> None:
    if meter is None:
        await drive(handler())
        return
    module, drive_with = meter
    module.begin(Limits())
    await drive_with(handler())


async def round_(meter: Meter) -> float:
    # ffi.drive imports wranglerpy.runtime.limits at each call: point it at the meter measured.
    module = limits if meter is None else meter[0]
    sys.modules["wranglerpy.runtime.limits"] = module
    import wranglerpy.runtime as package

    package.limits = module  # type: ignore[attr-defined]
    started = time.process_time()
    for _ in range(CALLS):
        await asyncio.create_task(one(meter))  # a task per call: a fresh context, as a request
    return (time.process_time() - started) / CALLS * 1e6


async def main() -> None:
    meters: dict[str, Meter] = {"unmetered": None, "metered": (limits, drive)}
    if BASELINE:
        old_limits = load_baseline(BASELINE, "limits")
        old_ffi = load_baseline(BASELINE, "ffi")  # its drive wraps the driver in the old meter
        meters[f"metered at {BASELINE}"] = (old_limits, old_ffi.drive)
    best: dict[str, list[float]] = {name: [] for name in meters}
    for _ in range(ROUNDS):
        for name, meter in meters.items():
            best[name].append(await round_(meter))
    print(f"{CALLS} calls a round, best of {ROUNDS} rounds (CPU µs per call)")
    plain = min(best["unmetered"])
    for name, figures in best.items():
        extra = "" if name == "unmetered" else f"   (+{min(figures) - plain:.2f})"
        print(f"{name + ':':24s}{min(figures):8.2f}{extra}")


if __name__ == "__main__":
    asyncio.run(main())
