"""SQL text helpers for D1: splitting scripts into statements, and D1's error wording."""

from __future__ import annotations

import re
import sqlite3

from wranglerpy.errors import BindingError

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?(\*/|\Z)", re.S)
_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.S)
TRANSACTION_WORDS = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
SCHEMA_WORDS = frozenset({"CREATE", "DROP", "ALTER"})


# D1's words for a statement its sandbox refuses, and for a query stopped at its time limit
# (https://developers.cloudflare.com/d1/observability/debug-d1/, "List of D1_ERRORs").
NOT_AUTHORIZED = "D1_ERROR: not authorized: SQLITE_AUTH"
TIMED_OUT = "D1_ERROR: D1 DB storage operation exceeded timeout which caused object to be reset."


class D1Error(BindingError):
    """A D1 call failed; the message starts with D1's code (``D1_ERROR: ...``)."""


# Python < 3.11 has no ``sqlite_errorname``: the exception class and message tell enough.
_BY_MESSAGE = (
    ("database is locked", "SQLITE_BUSY"),
    ("database table is locked", "SQLITE_LOCKED"),
    ("attempt to write a readonly database", "SQLITE_READONLY"),
    ("database or disk is full", "SQLITE_FULL"),
    ("string or blob too big", "SQLITE_TOOBIG"),
    ("too many SQL variables", "SQLITE_RANGE"),
    ("interrupted", "SQLITE_INTERRUPT"),
)


def _error_name(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", None)
    if name:
        return str(name)
    if isinstance(exc, sqlite3.IntegrityError):
        return "SQLITE_CONSTRAINT"
    text = str(exc)
    if text == "not authorized":
        return "SQLITE_AUTH"
    return next((name for words, name in _BY_MESSAGE if words in text), "SQLITE_ERROR")


def sqlite_error(exc: sqlite3.Error, code: str = "D1_ERROR") -> D1Error:
    """``D1_ERROR: <sqlite message>: SQLITE_<CODE>``, as D1 words a failing query."""
    name = _error_name(exc)
    if name == "SQLITE_INTERRUPT":
        # Only the time limit interrupts a D1 query (SQLiteStore's progress handler).
        return D1Error(TIMED_OUT)
    # D1 names the primary result code (SQLITE_CONSTRAINT, not SQLITE_CONSTRAINT_UNIQUE).
    primary = "_".join(name.split("_")[:2])
    return D1Error(f"{code}: {exc}: {primary}")


def _without_comments(sql: str) -> str:
    return _COMMENTS.sub(" ", sql)


def has_sql(statement: str) -> bool:
    """False for a statement made only of whitespace, comments and semicolons."""
    if "'" in statement or '"' in statement:
        return True  # a literal; stripping comments naively could misread it
    return bool(_without_comments(statement).replace(";", " ").strip())


def first_word(statement: str) -> str:
    """The statement's leading keyword, upper-cased ('' when there is none)."""
    match = re.match(r"\s*([A-Za-z]+)", _without_comments(statement))
    return match.group(1).upper() if match else ""


def split_sql(script: str) -> list[tuple[int, str]]:
    """``(line, statement)`` for each statement of ``script``, in order.

    Ends of statements are found with SQLite's own ``complete_statement``, so semicolons in
    strings, comments and ``CREATE TRIGGER ... BEGIN ...; END;`` bodies do not split.
    """
    if "\x00" in script:
        # sqlite3.complete_statement cannot read past a NUL; SQLite itself refuses one too.
        raise D1Error(
            f"D1_ERROR: SQL contains a NUL character at offset {script.index(chr(0))}: SQLITE_ERROR"
        )
    out: list[tuple[int, str]] = []
    start = 0
    for index, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : index + 1]):
            _append(out, script, start, index + 1)
            start = index + 1
    _append(out, script, start, len(script))
    return out


def _append(out: list[tuple[int, str]], script: str, start: int, end: int) -> None:
    text = script[start:end]
    if not has_sql(text):
        return
    lead = _LEADING.match(text)
    skipped = lead.end() if lead else 0
    line = script.count("\n", 0, start + skipped) + 1
    out.append((line, text[skipped:].strip()))
