"""Fuzzing binding inputs (KV, D1, R2, Analytics Engine) with hostile keys, values and SQL.

Each call either succeeds or raises a documented WranglerError (BindingError, StateError,
...); D1 calls run under a short time limit so a generated runaway query ends quickly.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ
from wranglerpy.bindings.analytics_engine import AnalyticsEngineBinding
from wranglerpy.bindings.d1 import D1DatabaseBinding
from wranglerpy.bindings.kv import KVNamespaceBinding
from wranglerpy.bindings.r2 import R2BucketBinding
from wranglerpy.errors import WranglerError

pytestmark = pytest.mark.timeout(300)
T = TypeVar("T")

HOSTILE_KEYS = st.sampled_from(
    ["", ".", "..", "../x", "/etc/passwd", "a" * 600, "a" * 1025, "\x00", "é/ü", "%2e%2e",
     "key\nnext", " ", "__proto__", "constructor"]
)  # fmt: skip
KEYS = st.text(max_size=64) | HOSTILE_KEYS
ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
OPTIONS = st.none() | st.dictionaries(
    st.sampled_from(
        ["expiration", "expirationTtl", "metadata", "type", "cacheTtl", "prefix", "limit",
         "cursor", "delimiter", "httpMetadata", "customMetadata", "range", "onlyIf", "include",
         "md5", "sha1", "startAfter"]
    ),
    ANY,
    max_size=3,
)  # fmt: skip


class Loop:
    """One event loop for a whole fuzz test (hypothesis runs examples synchronously)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def close(self) -> None:
        self.loop.close()


# Python's own wording for a TypeError raised by an operation on a wrong type (a bug), as
# opposed to the TypeErrors the bindings raise on purpose where JS raises a TypeError.
_ACCIDENTAL = re.compile(
    r"object is not|unsupported operand|not supported between|unhashable|positional argument"
    r"|must be str, not|can only concatenate|object of type"
)


def expected_error(exc: BaseException) -> bool:
    """A documented error: a WranglerError, or a deliberate (JS-style) TypeError."""
    if isinstance(exc, WranglerError):
        return bool(str(exc))
    return type(exc) is TypeError and not _ACCIDENTAL.search(str(exc))


def documented(loop: Loop, awaitable: Awaitable[Any]) -> None:
    try:
        loop.run(awaitable)
    except Exception as exc:  # noqa: BLE001 - judged just below
        if not expected_error(exc):
            raise


@pytest.fixture
def loop() -> Iterator[Loop]:
    lp = Loop()
    yield lp
    lp.close()


@pytest.fixture
def kv(tmp_path: Path, no_fd_leak: None) -> Iterator[KVNamespaceBinding]:
    binding = KVNamespaceBinding(tmp_path / "kv.sqlite")
    yield binding
    binding.close()


@FUZZ
@given(key=KEYS | ANY, value=ANY | st.text(), opts=OPTIONS)
def test_kv(loop: Loop, kv: KVNamespaceBinding, key: Any, value: Any, opts: Any) -> None:
    documented(loop, kv.put(key, value, opts))
    documented(loop, kv.get(key, opts))
    documented(loop, kv.getWithMetadata(key))
    documented(loop, kv.list(opts))
    documented(loop, kv.delete(key))


SQL_FRAGMENTS = st.sampled_from(
    ["SELECT", "INSERT INTO t VALUES (?)", "CREATE TABLE IF NOT EXISTS t (a)", "FROM t",
     "WHERE a = ?", "ATTACH DATABASE 'x' AS y", "VACUUM", "PRAGMA journal_mode", "PRAGMA",
     "BEGIN", "COMMIT", ";", "'", '"', "--", "/*", "*/", "(", ")", "?", "?1", ":a", "$b",
     "sqlite_version()", "load_extension('x')", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
     "SELECT x + 1 FROM c) SELECT count(*) FROM c", "DROP TABLE t", "json_extract(?, '$')",
     "randomblob(1000000000)", "zeroblob(2000000000)", "printf('%.*c', 2000000000, 'x')"]
)  # fmt: skip
SQL = st.lists(SQL_FRAGMENTS | st.text(max_size=12), max_size=8).map(" ".join)
PARAMS = st.lists(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
    | st.binary(max_size=50) | st.lists(st.integers(), max_size=2) | st.just(object()),
    max_size=4,
)  # fmt: skip


@pytest.fixture
def d1(tmp_path: Path, no_fd_leak: None) -> Iterator[D1DatabaseBinding]:
    binding = D1DatabaseBinding(tmp_path / "d1.sqlite", time_limit=0.5)
    yield binding
    binding.close()


@FUZZ
@given(sql=SQL, params=PARAMS)
@example(sql="\x00 ;", params=[])  # once a ValueError out of exec()'s statement splitter
def test_d1(loop: Loop, d1: D1DatabaseBinding, sql: str, params: list[Any]) -> None:
    try:
        stmt = d1.prepare(sql).bind(*params)
    except WranglerError:
        return  # D1_TYPE_ERROR for an unbindable value
    documented(loop, stmt.all())
    documented(loop, stmt.first())
    documented(loop, stmt.raw())
    documented(loop, d1.batch([stmt, d1.prepare("SELECT 1")]))
    documented(loop, d1.exec(sql))
    # The sandbox held: nothing but the database's own files exists beside it.
    extra = {p.name for p in d1.path.parent.iterdir()} - {
        "d1.sqlite", "d1.sqlite-wal", "d1.sqlite-shm", "d1.sqlite-journal",
    }  # fmt: skip
    assert not extra, extra


@pytest.fixture
def bucket(tmp_path: Path, no_fd_leak: None) -> Iterator[R2BucketBinding]:
    binding = R2BucketBinding(tmp_path / "bucket", bucket_name="b")
    yield binding
    binding.close()


@FUZZ
@given(
    key=KEYS | ANY,
    value=st.none() | st.text(max_size=50) | st.binary(max_size=50) | ANY,
    opts=OPTIONS,
)
@example(key="", value=None, opts={"include": 1})  # once a TypeError out of list()
def test_r2(
    loop: Loop, bucket: R2BucketBinding, tmp_path: Path, key: Any, value: Any, opts: Any
) -> None:
    documented(loop, bucket.put(key, value, opts))
    documented(loop, bucket.head(key))
    documented(loop, bucket.get(key, opts))
    documented(loop, bucket.list(opts))
    documented(loop, bucket.delete(key))
    # No key may write outside the bucket's folder.
    assert {p.name for p in tmp_path.iterdir()} == {"bucket"}


@pytest.fixture
def dataset(tmp_path: Path, no_fd_leak: None) -> Iterator[AnalyticsEngineBinding]:
    binding = AnalyticsEngineBinding(tmp_path / "ae.sqlite")
    yield binding
    binding.close()


@FUZZ
@given(
    point=st.none()
    | ANY
    | st.fixed_dictionaries(
        {},
        optional={
            "blobs": st.lists(ANY | st.text(max_size=6000), max_size=25) | ANY,
            "doubles": st.lists(ANY | st.floats(), max_size=25) | ANY,
            "indexes": st.lists(ANY | st.text(max_size=100), max_size=3) | ANY,
        },
    )
)
def test_analytics_engine(dataset: AnalyticsEngineBinding, point: Any) -> None:
    try:
        dataset.writeDataPoint(point)
    except Exception as exc:  # noqa: BLE001 - judged just below
        if not expected_error(exc):
            raise
