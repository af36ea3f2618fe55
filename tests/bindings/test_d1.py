import contextlib
import sqlite3
import textwrap
from pathlib import Path

import pytest

from tests.bindings.processes import assert_intact, kill_mid_write, run_together, spawn
from wranglerpy.bindings import d1
from wranglerpy.bindings.d1 import D1DatabaseBinding, D1Error, split_sql
from wranglerpy.config.schema import D1Database
from wranglerpy.errors import BindingError
from wranglerpy.jsobject import JSObject


@pytest.fixture
def db(tmp_path: Path) -> D1DatabaseBinding:
    binding = D1DatabaseBinding(tmp_path / "db.sqlite", name="test")
    yield binding
    binding.close()


@pytest.fixture
async def users(db: D1DatabaseBinding) -> D1DatabaseBinding:
    await db.exec(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, "
        "score REAL, avatar BLOB, active INTEGER);\n"
        "INSERT INTO users (email, score) VALUES ('a@x', 1.5), ('b@x', 2.5);"
    )
    return db


# -- statements ------------------------------------------------------------------------------


async def test_first_returns_a_row_a_column_or_none(users: D1DatabaseBinding) -> None:
    row = await users.prepare("SELECT id, email FROM users WHERE email = ?").bind("a@x").first()
    assert isinstance(row, JSObject) and row == {"id": 1, "email": "a@x"} and row.email == "a@x"
    assert await users.prepare("SELECT email FROM users ORDER BY id").first("email") == "a@x"
    assert await users.prepare("SELECT 1 AS one").first() == {"one": 1}
    assert await users.prepare("SELECT * FROM users WHERE id = 99").first() is None
    assert await users.prepare("SELECT * FROM users WHERE id = 99").first("email") is None
    with pytest.raises(D1Error, match=r"D1_COLUMN_NOTFOUND: Column not found \(nope\)"):
        await users.prepare("SELECT 1 AS one").first("nope")


async def test_all_returns_results_and_meta(users: D1DatabaseBinding) -> None:
    result = await users.prepare("SELECT email, score FROM users ORDER BY id").all()
    assert result.success is True
    assert result.results == [{"email": "a@x", "score": 1.5}, {"email": "b@x", "score": 2.5}]
    assert result.results[1].score == 2.5
    meta = result.meta
    assert set(meta) >= {
        "duration",
        "changes",
        "last_row_id",
        "rows_read",
        "rows_written",
        "changed_db",
        "size_after",
        "served_by",
    }
    assert meta.served_by == "wranglerpy" and meta.changes == 0 and meta.changed_db is False
    assert meta.rows_read == 2 and meta.rows_written == 0 and meta.size_after > 0
    assert meta.duration >= 0


async def test_rows_read_counts_rows_an_update_or_delete_visited(users: D1DatabaseBinding) -> None:
    """D1 reports the rows its SQLite cursors visited (miniflare
    packages/miniflare/src/workers/d1/database.worker.ts:184-185 passes workerd's
    cursor.rowsRead/rowsWritten; workerd src/workerd/util/sqlite.c++:1609-1616 reads them from
    the VDBE counters of patches/sqlite/0001-row-counts-plain.patch): a DELETE or UPDATE reads
    the rows it changes, so its rows_read is never 0 when it changed rows."""
    await users.prepare("INSERT INTO users (email) VALUES ('c@x')").run()
    update = await users.prepare("UPDATE users SET score = 0 WHERE email != 'c@x'").run()
    assert update.meta.changes == 2 and update.meta.rows_read >= 2
    assert update.meta.rows_written == 2
    deleted = await users.prepare("DELETE FROM users WHERE score = 0").run()
    assert deleted.meta.changes == 2 and deleted.meta.rows_read >= 2
    assert deleted.meta.rows_written == 2
    inserted = await users.prepare("INSERT INTO users (email) VALUES ('d@x')").run()
    assert inserted.meta.rows_read == 0 and inserted.meta.rows_written == 1
    selected = await users.prepare("SELECT email FROM users").all()
    assert selected.meta.rows_read == 2 and selected.meta.rows_written == 0


async def test_run_reports_changes_and_last_row_id(users: D1DatabaseBinding) -> None:
    insert = users.prepare("INSERT INTO users (email) VALUES (?)")
    result = await insert.bind("c@x").run()
    assert result.success is True and result.results == []
    assert result.meta.changes == 1 and result.meta.last_row_id == 3
    assert result.meta.changed_db is True and result.meta.rows_written == 1
    update = await users.prepare("UPDATE users SET score = 0").run()
    assert update.meta.changes == 3
    returning = await users.prepare("INSERT INTO users (email) VALUES ('d@x') RETURNING id").run()
    assert returning.results == [{"id": 4}] and returning.meta.changes == 1
    created = await users.prepare("CREATE TABLE t (x)").run()
    assert created.meta.changed_db is True and created.meta.changes == 0


async def test_raw_with_and_without_column_names(users: D1DatabaseBinding) -> None:
    stmt = users.prepare("SELECT id, email FROM users ORDER BY id")
    assert await stmt.raw() == [[1, "a@x"], [2, "b@x"]]
    assert await stmt.raw(columnNames=True) == [["id", "email"], [1, "a@x"], [2, "b@x"]]
    assert await stmt.raw({"columnNames": True}) == [["id", "email"], [1, "a@x"], [2, "b@x"]]
    empty = users.prepare("SELECT id FROM users WHERE id < 0")
    assert await empty.raw(columnNames=True) == [["id"]]


async def test_bind_types_round_trip(users: D1DatabaseBinding) -> None:
    stmt = users.prepare(
        "INSERT INTO users (email, score, avatar, active) VALUES (?, ?, ?, ?) RETURNING *"
    )
    row = (await stmt.bind("e@x", 3, b"\x00\x01", True).all()).results[0]
    assert row == {"id": 3, "email": "e@x", "score": 3.0, "avatar": b"\x00\x01", "active": 1}
    none_row = (await stmt.bind("f@x", None, bytearray(b"z"), False).all()).results[0]
    assert none_row.score is None and none_row.avatar == b"z" and none_row.active == 0
    numbered = users.prepare("SELECT ?2 AS b, ?1 AS a").bind("one", "two")
    assert await numbered.first() == {"b": "two", "a": "one"}


async def test_bind_is_immutable_and_rejects_other_types(db: D1DatabaseBinding) -> None:
    base = db.prepare("SELECT ? AS v")
    one, two = base.bind(1), base.bind(2)
    assert await one.first("v") == 1 and await two.first("v") == 2
    for bad in ({"a": 1}, [1], object(), 2**70):
        with pytest.raises(D1Error, match="D1_TYPE_ERROR"):
            base.bind(bad)
    with pytest.raises(D1Error, match="Wrong number of parameter bindings"):
        await base.first()


async def test_sql_errors_use_d1_wording(users: D1DatabaseBinding) -> None:
    with pytest.raises(D1Error) as info:
        await users.prepare("SELECT * FROM foo").all()
    assert str(info.value) == "D1_ERROR: no such table: foo: SQLITE_ERROR"
    assert isinstance(info.value, BindingError)
    with pytest.raises(D1Error) as info:
        await users.prepare("INSERT INTO users (email) VALUES ('a@x')").run()
    assert str(info.value) == ("D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT")
    with pytest.raises(D1Error, match='D1_ERROR: near "SELEC": syntax error: SQLITE_ERROR'):
        await users.prepare("SELEC 1").first()


async def test_transaction_statements_are_refused(db: D1DatabaseBinding) -> None:
    for sql in ("BEGIN", "  begin transaction", "-- x\nSAVEPOINT a", "COMMIT"):
        with pytest.raises(D1Error, match="use batch"):
            await db.prepare(sql).run()
    assert await db.prepare("SELECT 1 AS one").first("one") == 1


async def test_foreign_keys_are_enforced(db: D1DatabaseBinding) -> None:
    await db.exec(
        "CREATE TABLE p (id INTEGER PRIMARY KEY);CREATE TABLE c (pid INTEGER REFERENCES p(id));"
    )
    with pytest.raises(D1Error, match="FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"):
        await db.prepare("INSERT INTO c VALUES (7)").run()


# -- batch, exec, dump -------------------------------------------------------------------------


async def test_batch_runs_all_in_one_transaction(users: D1DatabaseBinding) -> None:
    insert = users.prepare("INSERT INTO users (email) VALUES (?)")
    results = await users.batch(
        [insert.bind("c@x"), insert.bind("d@x"), users.prepare("SELECT count(*) AS n FROM users")]
    )
    assert [r.meta.changes for r in results] == [1, 1, 0]
    assert results[2].results == [{"n": 4}]
    assert await users.batch([]) == []


async def test_batch_is_all_or_nothing(users: D1DatabaseBinding) -> None:
    insert = users.prepare("INSERT INTO users (email) VALUES (?)")
    with pytest.raises(D1Error, match="UNIQUE constraint failed"):
        await users.batch([insert.bind("new@x"), insert.bind("a@x")])
    count = await users.prepare("SELECT count(*) AS n FROM users").first("n")
    assert count == 2
    with pytest.raises(D1Error, match="batch\\(\\) takes prepared statements"):
        await users.batch(["SELECT 1"])  # type: ignore[list-item]
    # the connection is usable (and not left in a transaction) afterwards
    assert (await insert.bind("later@x").run()).meta.changes == 1


async def test_large_batch_runs_on_a_thread_and_stays_atomic(db: D1DatabaseBinding) -> None:
    await db.exec("CREATE TABLE t (x INTEGER UNIQUE)")
    insert = db.prepare("INSERT INTO t VALUES (?)")
    results = await db.batch([insert.bind(i) for i in range(200)])
    assert len(results) == 200
    with pytest.raises(D1Error):
        await db.batch([insert.bind(i) for i in range(1000, 1100)] + [insert.bind(5)])
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 200


async def test_exec_runs_each_statement_and_counts(db: D1DatabaseBinding) -> None:
    result = await db.exec(
        """
        CREATE TABLE log (msg TEXT);  -- a comment; with a semicolon
        CREATE TABLE n (v INTEGER);
        CREATE TRIGGER t AFTER INSERT ON n BEGIN
            INSERT INTO log VALUES ('got; ' || NEW.v);
        END;
        INSERT INTO n VALUES (1);
        """
    )
    assert result.count == 4 and result.duration >= 0
    assert await db.prepare("SELECT msg FROM log").first("msg") == "got; 1"


async def test_exec_error_names_the_line_and_statement(db: D1DatabaseBinding) -> None:
    with pytest.raises(D1Error) as info:
        await db.exec("CREATE TABLE a (x);\nINSERT INTO b VALUES (1);")
    assert str(info.value) == (
        "D1_EXEC_ERROR: Error in line 2: INSERT INTO b VALUES (1);: no such table: b: SQLITE_ERROR"
    )


async def test_dump_is_a_database_image(users: D1DatabaseBinding, tmp_path: Path) -> None:
    image = await users.dump()
    assert image.startswith(b"SQLite format 3\x00")
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(image)
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 2


def test_split_sql_finds_statement_ends_and_lines() -> None:
    script = "SELECT ';';\n\n-- only a comment;\nSELECT 2\n;  /* c */ ;\nSELECT 3"
    assert split_sql(script) == [(1, "SELECT ';';"), (4, "SELECT 2\n;"), (6, "SELECT 3")]
    assert split_sql("  \n-- nothing\n") == []


# -- layout, processes, crashes -----------------------------------------------------------------


async def test_create_uses_the_storage_id_and_shares_the_file(tmp_path: Path) -> None:
    by_id = D1Database(binding="DB", database_name="app", database_id="abc-123")
    same = D1Database(binding="OTHER", database_name="renamed", database_id="abc-123")
    by_name = D1Database(binding="DB2", database_name="app")
    a, b, c = (d1.create(cfg, tmp_path) for cfg in (by_id, same, by_name))
    await a.exec("CREATE TABLE t (x); INSERT INTO t VALUES (42);")
    assert await b.prepare("SELECT x FROM t").first("x") == 42
    with pytest.raises(D1Error, match="no such table: t"):
        await c.prepare("SELECT x FROM t").first()
    assert (tmp_path / "d1" / "abc-123" / "db.sqlite").is_file()
    assert (tmp_path / "d1" / "app" / "db.sqlite").is_file()
    for binding in (a, b, c):
        binding.close()


COUNTER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from wranglerpy.bindings.d1 import D1DatabaseBinding

    async def main(path, n, tag):
        db = D1DatabaseBinding(Path(path))
        wait_for_go(path)
        bump = db.prepare("UPDATE counter SET n = n + 1")
        note = db.prepare("INSERT INTO notes (tag, i) VALUES (?, ?)")
        for i in range(n):
            await bump.run()
            await db.batch([note.bind(tag, i), bump])
            if i == 20:
                print("started", flush=True)
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
    """
)

# The tables COUNTER updates; the tests create them before the writers start.
COUNTER_TABLES = (
    "CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0);"
    "CREATE TABLE notes (tag TEXT, i INTEGER);"
)


async def test_two_processes_updating_one_row_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    db = D1DatabaseBinding(path)
    await db.exec(COUNTER_TABLES)
    procs = [spawn(COUNTER, path, 400, tag) for tag in ("a", "b")]
    assert all("done" in out for out in run_together(path, procs))
    assert await db.prepare("SELECT n FROM counter").first("n") == 1600
    assert await db.prepare("SELECT count(*) AS c FROM notes").first("c") == 800
    db.close()


async def test_kill_9_mid_write_leaves_a_readable_database(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    db = D1DatabaseBinding(path)
    await db.exec(COUNTER_TABLES)
    kill_mid_write(COUNTER, path, 1_000_000, "x")
    assert_intact(path)
    n = await db.prepare("SELECT n FROM counter").first("n")
    notes = await db.prepare("SELECT count(*) AS c FROM notes").first("c")
    assert notes >= 21
    assert n in (2 * notes, 2 * notes + 1)  # each batch landed whole or not at all
    await db.prepare("UPDATE counter SET n = 0").run()
    db.close()


async def test_columns_named_like_dict_methods_read_as_columns(db: D1DatabaseBinding) -> None:
    row = await db.prepare("SELECT 1 AS items, 2 AS keys, 3 AS other").first()
    assert row.items == 1 and row.keys == 2 and row.other == 3
    assert row["items"] == 1 and dict(row) == {"items": 1, "keys": 2, "other": 3}
    plain = (await db.prepare("SELECT 5 AS v").all()).results[0]
    assert list(plain.items()) == [("v", 5)]
    with pytest.raises(AttributeError):
        _ = plain.missing
