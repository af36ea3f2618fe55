"""D1's error wording, also where Python's sqlite3 cannot name the SQLite code (< 3.11)."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from wranglerpy.bindings.d1.sql import sqlite_error


@pytest.mark.parametrize(
    ("exc", "wording"),
    [
        (
            sqlite3.IntegrityError("UNIQUE constraint failed: t.a"),
            "D1_ERROR: UNIQUE constraint failed: t.a: SQLITE_CONSTRAINT",
        ),
        (
            sqlite3.OperationalError("database is locked"),
            "D1_ERROR: database is locked: SQLITE_BUSY",
        ),
        (sqlite3.OperationalError("no such table: x"), "D1_ERROR: no such table: x: SQLITE_ERROR"),
    ],
)
def test_errors_built_without_a_code_name_still_get_the_right_one(
    exc: sqlite3.Error, wording: str
) -> None:
    # Exceptions made by hand carry no sqlite_errorname, like every one on Python 3.10.
    assert not getattr(exc, "sqlite_errorname", None)
    assert str(sqlite_error(exc)) == wording


def test_a_real_error_uses_sqlites_own_code_name() -> None:
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.execute("CREATE TABLE t (a UNIQUE)")
        db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.IntegrityError) as caught:
            db.execute("INSERT INTO t VALUES (1)")
    assert str(sqlite_error(caught.value)).endswith(": SQLITE_CONSTRAINT")
