"""D1 queries never run on the worker's event loop, and stop at D1's time limit.

D1 stops a query after 30 s and words it as in "List of D1_ERRORs"
(https://developers.cloudflare.com/d1/observability/debug-d1/ and
https://developers.cloudflare.com/d1/platform/limits/); a slow query on Cloudflare never
blocks the worker's other requests (finding 6 of issue 18).
"""

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from wranglerpy.bindings.d1 import D1DatabaseBinding, D1Error
from wranglerpy.bindings.d1.sql import TIMED_OUT

RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite"


@pytest.fixture
def db(path: Path) -> Iterator[D1DatabaseBinding]:
    binding = D1DatabaseBinding(path, name="test", time_limit=0.3)
    yield binding
    binding.close()


async def test_a_lock_held_elsewhere_does_not_freeze_the_loop(
    db: D1DatabaseBinding, path: Path
) -> None:
    await db.exec("CREATE TABLE t (a INTEGER)")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the CLI (or another worker) holds the write lock
    try:
        write = asyncio.ensure_future(db.prepare("INSERT INTO t VALUES (1)").run())
        # Another request of the same worker gets served while the write waits for the lock.
        served = asyncio.Event()
        asyncio.get_running_loop().call_soon(served.set)
        await served.wait()
        await asyncio.sleep(0)
        assert not write.done()
    finally:
        other.execute("COMMIT")
        other.close()
    result = await write
    assert result.meta.changes == 1


async def test_a_runaway_query_stops_with_d1s_error(db: D1DatabaseBinding) -> None:
    other_requests = asyncio.ensure_future(asyncio.sleep(0, result="served"))
    with pytest.raises(D1Error) as info:
        await db.prepare(RUNAWAY).first()
    assert str(info.value) == TIMED_OUT
    assert other_requests.done() and other_requests.result() == "served"
    # The database is usable afterwards.
    assert await db.prepare("SELECT 1 AS one").first("one") == 1


async def test_a_runaway_statement_in_a_batch_rolls_the_batch_back(db: D1DatabaseBinding) -> None:
    await db.exec("CREATE TABLE t (a INTEGER)")
    with pytest.raises(D1Error, match="exceeded timeout"):
        await db.batch([db.prepare("INSERT INTO t VALUES (1)"), db.prepare(RUNAWAY)])
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0


def test_queries_are_bounded_by_default(path: Path) -> None:
    binding = D1DatabaseBinding(path)
    try:
        assert binding._store.sqlite.time_limit == 30.0
        assert binding._store.sqlite.own_thread
    finally:
        binding.close()
