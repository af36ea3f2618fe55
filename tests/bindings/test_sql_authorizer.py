"""The D1 / Durable Object SQL sandbox.

The rules follow workerd's ``SqliteDatabase::isAuthorized`` (cloudflare/workerd
``src/workerd/util/sqlite.c++``, commit 6552d99: ``ALLOWED_SQLITE_FUNCTIONS`` at line 363,
``ALLOWED_PRAGMAS`` at line 543, the action switch from line 1089, ``ATTACH`` denied at line
1318); the PRAGMA list is D1's "Compatible PRAGMA statements"
(https://developers.cloudflare.com/d1/sql-api/sql-statements/).
"""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from wranglerpy.bindings import sql_authorizer
from wranglerpy.bindings.d1 import D1DatabaseBinding, D1Error


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    c.execute("CREATE TABLE t (a INTEGER)")
    sql_authorizer.install(c)
    yield c
    c.close()


ALLOWED = [
    "SELECT count(*), json_object('a', 1), strftime('%Y', 'now') FROM t",
    "INSERT INTO t VALUES (1)",
    "CREATE INDEX t_a ON t (a)",
    "CREATE VIEW v AS SELECT a FROM t",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
    "CREATE VIRTUAL TABLE docs USING fts5(body)",
    "ALTER TABLE t ADD COLUMN b TEXT",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3) SELECT x FROM c",
    "PRAGMA table_list",
    "PRAGMA table_info(t)",
    "PRAGMA foreign_keys = ON",
    "PRAGMA foreign_keys",
    "PRAGMA defer_foreign_keys = 'true'",
    "PRAGMA foreign_key_check",
    "PRAGMA index_list(t)",
    "PRAGMA quick_check",
    "PRAGMA optimize",
    "PRAGMA page_size",
    "SELECT name FROM sqlite_master",
]

DENIED = [
    "ATTACH DATABASE 'other.sqlite' AS other",
    "PRAGMA writable_schema = 1",
    "PRAGMA journal_mode",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA database_list",
    "PRAGMA page_size = 8192",
    "PRAGMA synchronous = OFF",
    "PRAGMA foreign_keys = maybe",
    "PRAGMA index_list",
    "CREATE TEMP TABLE scratch (a)",
    "CREATE TABLE _cf_KV (a)",
    "CREATE VIRTUAL TABLE x USING dbstat",
    "SELECT sqlite_version()",
    "SELECT load_extension('/tmp/evil.so')",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_what_d1_allows_runs(conn: sqlite3.Connection, sql: str) -> None:
    conn.execute(sql).fetchall()


@pytest.mark.parametrize("sql", DENIED)
def test_what_d1_denies_is_not_authorized(conn: sqlite3.Connection, sql: str) -> None:
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        conn.execute(sql)


def test_trusted_block_lets_wranglerpy_run_its_own_statements(tmp_path: Path) -> None:
    c = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    auth = sql_authorizer.install(c)
    with pytest.raises(sqlite3.DatabaseError):
        c.execute("PRAGMA page_count")
    with auth.trusted():
        assert c.execute("PRAGMA page_count").fetchone()[0] >= 0
    c.close()


def test_denied_statement_sees_past_comments() -> None:
    assert sql_authorizer.denied_statement("/* x */ vacuum")
    assert sql_authorizer.denied_statement("-- y\nVACUUM INTO '/tmp/copy'")
    assert not sql_authorizer.denied_statement("SELECT 'VACUUM'")


# -- through the D1 binding ------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[D1DatabaseBinding]:
    binding = D1DatabaseBinding(tmp_path / "d1" / "db.sqlite", name="test")
    yield binding
    binding.close()


async def test_attach_cannot_read_another_store(tmp_path: Path, db: D1DatabaseBinding) -> None:
    """Finding 4 of issue 18: ATTACH read another store's rows."""
    other = sqlite3.connect(tmp_path / "other.sqlite")
    other.execute("CREATE TABLE secrets (s TEXT)")
    other.execute("INSERT INTO secrets VALUES ('x')")
    other.commit()
    other.close()
    attach = f"ATTACH DATABASE '{tmp_path / 'other.sqlite'}' AS o"
    with pytest.raises(D1Error, match=r"^D1_ERROR: not authorized: SQLITE_AUTH$"):
        await db.prepare(attach).run()
    with pytest.raises(D1Error, match="not authorized"):
        await db.exec(attach)


@pytest.mark.parametrize(
    "sql",
    [
        "VACUUM",
        "VACUUM INTO '/tmp/wranglerpy-copy.sqlite'",
        "PRAGMA writable_schema = ON",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA database_list",
    ],
)
async def test_d1_answers_not_authorized(db: D1DatabaseBinding, sql: str) -> None:
    with pytest.raises(D1Error, match=r"^D1_ERROR: not authorized"):
        await db.prepare(sql).all()
    assert not Path("/tmp/wranglerpy-copy.sqlite").exists()


async def test_d1_batches_and_meta_still_work_under_the_sandbox(db: D1DatabaseBinding) -> None:
    await db.exec("CREATE TABLE t (a INTEGER)")
    results = await db.batch([db.prepare("INSERT INTO t VALUES (?)").bind(i) for i in range(3)])
    assert [r.meta.changes for r in results] == [1, 1, 1]
    assert results[0].meta.size_after > 0
    # A denied statement inside a batch rolls the whole batch back.
    with pytest.raises(D1Error, match="not authorized"):
        await db.batch([db.prepare("INSERT INTO t VALUES (9)"), db.prepare("PRAGMA journal_mode")])
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 3


async def test_d1s_size_limits_apply(db: D1DatabaseBinding) -> None:
    """D1's limits (https://developers.cloudflare.com/d1/platform/limits/), as workerd sets
    them in ``SqliteDatabase::setupSecurity``: 100 bound parameters, 100 KB statements,
    100 columns."""
    params = ", ".join("?" * 101)
    with pytest.raises(D1Error, match="too many SQL variables"):
        await db.prepare(f"SELECT {params}").bind(*range(101)).all()
    assert len(await db.prepare(f"SELECT {', '.join('?' * 100)}").bind(*range(100)).raw()) == 1
    with pytest.raises(D1Error, match="too large"):
        await db.prepare("SELECT '" + "x" * 100_001 + "'").all()
    columns = ", ".join(f"c{i}" for i in range(101))
    with pytest.raises(D1Error, match="too many columns"):
        await db.exec(f"CREATE TABLE wide ({columns})")
    with pytest.raises(D1Error, match="too big"):
        await db.prepare("SELECT zeroblob(5000000)").all()
