"""D1 and Analytics Engine through the single primary: the same calls and errors as the
local bindings (the actor's class run in this process, behind a stand-in actor handle)."""

import asyncio
import sqlite3

import pytest

from wranglerpy.bindings.analytics_engine import dataset_path
from wranglerpy.bindings.analytics_engine.binding import AnalyticsEngineError
from wranglerpy.bindings.d1 import D1Error
from wranglerpy.ray.primary import RemoteAnalyticsEngine, RemoteD1Database, StatePrimary


class StandInActor:
    """``actor.method.remote(...)`` returns an awaitable, as a Ray ObjectRef is."""

    def __init__(self, target: StatePrimary) -> None:
        self.target = target
        self.pending: list[asyncio.Future] = []

    def __getattr__(self, name: str):
        method = getattr(self.target, name)

        class Remote:
            def remote(_, *args):
                result = method(*args)
                if asyncio.iscoroutine(result):
                    future = asyncio.ensure_future(result)
                else:
                    future = asyncio.get_running_loop().create_future()
                    future.set_result(result)
                self.pending.append(future)
                return future

        return Remote()


@pytest.fixture
def primary(tmp_path):
    return StandInActor(StatePrimary(str(tmp_path)))


async def test_a_write_through_one_binding_is_read_through_another(primary):
    writer = RemoteD1Database("db-id", "db", primary)  # as on node_a
    reader = RemoteD1Database("db-id", "db", primary)  # as on node_b
    await writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    result = await writer.prepare("INSERT INTO t (v) VALUES (?)").bind("hello").run()
    assert result["meta"]["changes"] == 1
    assert await reader.prepare("SELECT v FROM t WHERE id = ?").bind(1).first("v") == "hello"
    rows = await reader.prepare("SELECT id, v FROM t").raw(columnNames=True)
    assert rows == [["id", "v"], [1, "hello"]]
    assert (await reader.prepare("SELECT * FROM t").all())["results"][0]["v"] == "hello"


async def test_errors_are_d1_errors_and_a_failed_batch_changes_nothing(primary):
    db = RemoteD1Database("db-id", "db", primary)
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(D1Error, match="no such table: nope"):
        await db.prepare("SELECT * FROM nope").all()
    with pytest.raises(D1Error):
        await db.batch(
            [db.prepare("INSERT INTO t VALUES (1)"), db.prepare("INSERT INTO t VALUES (1)")]
        )
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0
    with pytest.raises(D1Error, match="D1_TYPE_ERROR"):
        db.prepare("SELECT ?").bind(object())
    assert (await db.dump())[:16] == b"SQLite format 3\x00"


async def test_analytics_engine_points_land_in_the_primarys_dataset(primary, tmp_path):
    dataset = RemoteAnalyticsEngine("events", primary)
    dataset.writeDataPoint({"blobs": ["a"], "doubles": [1.5], "indexes": ["k"]})
    await asyncio.gather(*primary.pending)
    with sqlite3.connect(dataset_path(tmp_path, "events")) as conn:
        assert conn.execute("SELECT count(*) FROM points").fetchone()[0] == 1
    with pytest.raises(AnalyticsEngineError):
        dataset.writeDataPoint({"doubles": ["not a number"]})  # checked before it is sent


async def test_errors_keep_their_class_and_words_through_the_primary(primary, tmp_path):
    """The remote store raises the very exception the primary's store raised (pickled as
    Ray would), not a D1Error rebuilt from its message nor a Ray error."""
    import pickle

    from wranglerpy.bindings.d1 import D1DatabaseBinding

    local = D1DatabaseBinding(tmp_path / "local.sqlite", name="db")
    remote = RemoteD1Database("db-id", "db", primary)
    errors = []
    for db in (local, remote):
        await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        await db.prepare("INSERT INTO t VALUES (1)").run()
        with pytest.raises(D1Error) as caught:
            await db.prepare("INSERT INTO t VALUES (1)").run()
        errors.append(pickle.loads(pickle.dumps(caught.value)))
    local.close()
    assert [type(e) for e in errors] == [D1Error, D1Error]
    assert str(errors[0]) == str(errors[1])
    assert "SQLITE_CONSTRAINT" in str(errors[1])


async def test_an_unknown_call_is_refused_by_the_primary(tmp_path):
    ok, error = await StatePrimary(str(tmp_path)).d1("db-id", "close", ())
    assert not ok and isinstance(error, ValueError)
