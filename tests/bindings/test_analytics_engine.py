import contextlib
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest

from tests.bindings.conftest import NOW
from tests.bindings.processes import assert_intact, kill_mid_write, run_together, spawn
from wranglerpy.bindings import analytics_engine
from wranglerpy.bindings.analytics_engine import AnalyticsEngineBinding, AnalyticsEngineError
from wranglerpy.config.schema import AnalyticsEngineDataset
from wranglerpy.errors import BindingError


@pytest.fixture
def ae(tmp_path: Path) -> AnalyticsEngineBinding:
    binding = AnalyticsEngineBinding(tmp_path / "points.sqlite", dataset="ds", clock=lambda: NOW)
    yield binding
    binding.close()


def rows(binding: AnalyticsEngineBinding) -> list[sqlite3.Row]:
    def read(conn: sqlite3.Connection) -> list[sqlite3.Row]:
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute("SELECT * FROM points ORDER BY rowid").fetchall()
        finally:
            conn.row_factory = None

    return binding._store.call(read)


def test_write_data_point_is_synchronous_and_stored(ae: AnalyticsEngineBinding) -> None:
    result = ae.writeDataPoint({"blobs": ["a", b"b", None], "doubles": [1, 2.5], "indexes": ["i"]})
    assert result is None  # not a coroutine: Cloudflare's call is not awaited
    ae.writeDataPoint(blobs=["kw"])  # options as keyword arguments
    ae.writeDataPoint()  # an empty point is allowed
    first, second, third = rows(ae)
    assert (first["timestamp"], first["_sample_interval"], first["index1"]) == (NOW, 1, "i")
    assert (first["blob1"], first["blob2"], first["blob3"], first["blob20"]) == ("a", "b", "", "")
    assert (first["double1"], first["double2"], first["double20"]) == (1.0, 2.5, 0.0)
    assert second["blob1"] == "kw" and third["index1"] == ""


def test_limits_at_the_edge_are_accepted(ae: AnalyticsEngineBinding) -> None:
    ae.writeDataPoint(
        {
            "blobs": ["x" * 800] * 20,  # exactly 16,000 bytes (workerd's limit)
            "doubles": list(range(20)),
            "indexes": ["é" * 48],  # 96 bytes
        }
    )
    assert len(rows(ae)) == 1


@pytest.mark.parametrize(
    "point, message",
    [
        # workerd's words (analytics-engine-impl.h), their unbalanced ")" included.
        ({"blobs": ["x"] * 21}, r"Maximum of 20 blobs supported\.$"),
        ({"doubles": [0] * 21}, r"Maximum of 20 doubles supported\.$"),
        ({"indexes": ["a", "b"]}, r"Maximum of 1 indexes supported\.$"),
        ({"indexes": ["é" * 48 + "x"]}, r"Size of indexes\[0\] exceeds 96 bytes\)\.$"),
        (
            {"blobs": ["x" * 8000, b"y" * 8001]},
            r"Cumulative size of blobs exceeds 16000 bytes\)\.$",
        ),
        ({"blobs": [1]}, r"blobs\[0\] must be a string, bytes or None, got int"),
        ({"doubles": ["1"]}, r"doubles\[0\] must be a number, got str"),
        ({"doubles": [True]}, r"doubles\[0\] must be a number, got bool"),
        ({"blobs": "abc"}, r"blobs must be an array"),
        ({"blob": ["typo"]}, r"unknown field\(s\) \['blob'\]"),
    ],
)
def test_limits_and_types_fail_like_cloudflare(
    ae: AnalyticsEngineBinding, point: dict, message: str
) -> None:
    with pytest.raises(AnalyticsEngineError, match=message) as info:
        ae.writeDataPoint(point)
    assert isinstance(info.value, TypeError) and isinstance(info.value, BindingError)
    assert str(info.value).startswith("writeDataPoint(): ")
    assert rows(ae) == []


def test_writes_are_cheap(ae: AnalyticsEngineBinding) -> None:
    point = {"blobs": ["GET", "/path", "200"], "doubles": [12.5, 1], "indexes": ["k"]}
    for _ in range(50):  # warm up
        ae.writeDataPoint(point)
    count = 500
    start = time.perf_counter()
    for _ in range(count):
        ae.writeDataPoint(point)
    per_write = (time.perf_counter() - start) / count
    assert per_write < 0.002  # measured ~0.03 ms; generous for a busy CI machine
    assert len(rows(ae)) == count + 50


def test_create_lays_out_state_by_dataset_and_shares_it(tmp_path: Path) -> None:
    a = analytics_engine.create(AnalyticsEngineDataset(binding="A", dataset="hits"), tmp_path)
    b = analytics_engine.create(AnalyticsEngineDataset(binding="B", dataset="hits"), tmp_path)
    a.writeDataPoint({"blobs": ["from a"]})
    b.writeDataPoint({"blobs": ["from b"]})
    assert [r["blob1"] for r in rows(a)] == ["from a", "from b"]
    assert (tmp_path / "analytics_engine" / "hits" / "points.sqlite").is_file()
    evil = analytics_engine.create(AnalyticsEngineDataset(binding="E", dataset="../x"), tmp_path)
    evil.writeDataPoint()
    assert all(p.is_relative_to(tmp_path / "analytics_engine") for p in tmp_path.rglob("*.sqlite"))
    for binding in (a, b, evil):
        binding.close()


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from wranglerpy.bindings.analytics_engine import AnalyticsEngineBinding

    path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ae = AnalyticsEngineBinding(Path(path))
    wait_for_go(path)
    for i in range(count):
        ae.writeDataPoint({"blobs": [tag], "doubles": [i]})
        if i == 20:
            print("started", flush=True)
    print("done", flush=True)
    """
)


def test_two_processes_write_concurrently_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "points.sqlite"
    procs = [spawn(WRITER, path, tag, 1500) for tag in ("a", "b")]
    assert all("done" in out for out in run_together(path, procs))
    with contextlib.closing(sqlite3.connect(path)) as conn:
        counts = dict(conn.execute("SELECT blob1, count(*) FROM points GROUP BY blob1"))
        sums = dict(conn.execute("SELECT blob1, sum(double1) FROM points GROUP BY blob1"))
    assert counts == {"a": 1500, "b": 1500}
    assert sums == {"a": sum(range(1500)), "b": sum(range(1500))}


def test_kill_9_mid_write_leaves_a_readable_store(tmp_path: Path) -> None:
    path = tmp_path / "points.sqlite"
    kill_mid_write(WRITER, path, "x", 10_000_000)
    assert_intact(path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        doubles = [r[0] for r in conn.execute("SELECT double1 FROM points ORDER BY rowid")]
    assert len(doubles) >= 21 and doubles == [float(i) for i in range(len(doubles))]
    again = AnalyticsEngineBinding(path)
    again.writeDataPoint({"blobs": ["after"]})
    again.close()


def test_a_nan_double_is_refused_not_stored_as_null(tmp_path) -> None:
    """SQLite turns NaN into NULL; the point is refused with a clear error instead of being
    lost (found by tests/fuzz/test_fuzz_bindings.py; listed in docs/fidelity.md)."""
    dataset = AnalyticsEngineBinding(tmp_path / "points.sqlite", dataset="nan")
    try:
        with pytest.raises(AnalyticsEngineError, match=r"doubles\[1\] is NaN"):
            dataset.writeDataPoint({"doubles": [1.0, float("nan")]})
        dataset.writeDataPoint({"doubles": [float("inf")]})  # infinities are kept
    finally:
        dataset.close()
