import asyncio
from pathlib import Path

from wranglerpy.bindings import kv
from wranglerpy.bindings.d1 import create as create_d1
from wranglerpy.config.schema import D1Database, KVNamespace, Placement
from wranglerpy.runtime.latency import OFF, SMART, Delayed, delay_bindings, model_for


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_placement_picks_the_model() -> None:
    assert model_for(None) is OFF
    assert model_for(Placement(mode="off")) is OFF
    assert model_for(Placement(mode="smart")) is SMART
    assert model_for(Placement(hint="wnam")) is SMART
    assert SMART.for_kind("d1_databases") < OFF.for_kind("d1_databases")
    assert SMART.client_ms > OFF.client_ms
    assert OFF.for_kind("analytics_engine_datasets") == 0


def test_every_awaited_call_pays_one_round_trip(tmp_path: Path) -> None:
    sleeps = Sleeps()
    db = create_d1(D1Database("DB", "appdb"), tmp_path)
    store = kv.create(KVNamespace("KV", "ns"), tmp_path)

    async def scenario() -> list[object]:
        wrapped_db = Delayed(db, 0.1, sleeps)
        wrapped_kv = Delayed(store, 0.1, sleeps)
        await wrapped_db.exec("CREATE TABLE t (id INTEGER)")
        insert = wrapped_db.prepare("INSERT INTO t VALUES (?)")
        await wrapped_db.batch([insert.bind(1), insert.bind(2)])  # statements are unwrapped
        rows = await wrapped_db.prepare("SELECT id FROM t WHERE id > ?").bind(0).all()
        await wrapped_kv.put("k", "v")
        return [rows["results"], await wrapped_kv.get("k")]

    try:
        results = asyncio.run(scenario())
    finally:
        db.close()
    assert results == [[{"id": 1}, {"id": 2}], "v"]
    assert sleeps.calls == [0.1] * 5  # exec, batch, all, put, get: prepare/bind are local


def test_zero_delay_leaves_the_binding_alone(tmp_path: Path) -> None:
    store = object()
    wrapped = delay_bindings(
        {"AE": store, "KV": store}, {"AE": "analytics_engine_datasets", "KV": "kv_namespaces"}, OFF
    )
    assert wrapped["AE"] is store
    assert isinstance(wrapped["KV"], Delayed)
