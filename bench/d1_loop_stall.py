#!/usr/bin/env python3
"""How long a worker's event loop stalls while one D1 query waits or runs (issue 18, finding 6).

    .venv/bin/python bench/d1_loop_stall.py

Two cases, each with a 1 ms heartbeat task on the same loop (what every other request of the
worker needs): a D1 write while another connection (the CLI, another worker) holds the write
lock for HOLD seconds, and a slow query (a recursive CTE of ROWS rows). Reported: the longest
gap between heartbeats (the stall other requests see) and the query's own duration; medians
of RUNS runs. Before this change queries ran on the loop, so the stall equalled the wait.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wranglerpy.bindings.d1 import D1DatabaseBinding  # noqa: E402

HOLD = 0.5
ROWS = 2_000_000
RUNS = 5


async def heartbeat(stop: asyncio.Event, gaps: list[float]) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def measure(db: D1DatabaseBinding, query: str, path: Path, hold: bool) -> tuple[float, float]:
    if hold:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(HOLD, lambda: (other.execute("COMMIT"), other.close()))
        timer.start()
    stop = asyncio.Event()
    gaps: list[float] = []
    beat = asyncio.ensure_future(heartbeat(stop, gaps))
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    await db.prepare(query).run()
    took = time.perf_counter() - started
    stop.set()
    await beat
    if hold:
        timer.join()
    return max(gaps) * 1000, took * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db.sqlite"
        db = D1DatabaseBinding(path)
        await db.exec("CREATE TABLE t (a INTEGER)")
        cases = {
            f"write behind a lock held {HOLD:.1f} s": ("INSERT INTO t VALUES (1)", True),
            f"recursive CTE of {ROWS:,} rows": (
                f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                f"WHERE x < {ROWS}) SELECT count(*) FROM c",
                False,
            ),
        }
        print(f"{'case':40} {'loop stall ms':>14} {'query ms':>10}   (median of {RUNS})")
        for name, (query, hold) in cases.items():
            results = [await measure(db, query, path, hold) for _ in range(RUNS)]
            stall = statistics.median(r[0] for r in results)
            took = statistics.median(r[1] for r in results)
            print(f"{name:40} {stall:14.1f} {took:10.1f}")
        db.close()


if __name__ == "__main__":
    asyncio.run(main())
