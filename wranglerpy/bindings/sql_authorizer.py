"""The SQLite sandbox of D1 (and Durable Object SQL): what worker SQL may do to its database.

Cloudflare runs D1 and Durable Object SQL on SQLite with an authorizer that allows ordinary
SQL on the one database and denies everything that reaches outside it or changes how the file
is stored: ``ATTACH``, ``VACUUM INTO``, temporary objects, most ``PRAGMA`` statements and any
SQL function not on its list. A denied statement fails with SQLite's own ``not authorized``
(``SQLITE_AUTH``), which D1 words as ``D1_ERROR: not authorized: SQLITE_AUTH``.

The rules follow workerd's ``SqliteDatabase::isAuthorized`` (cloudflare/workerd
``src/workerd/util/sqlite.c++``: ``ALLOWED_SQLITE_FUNCTIONS``, ``ALLOWED_PRAGMAS`` and the
action switch), which is also what ``wrangler dev`` runs locally; the PRAGMA list matches the
"Compatible PRAGMA statements" of https://developers.cloudflare.com/d1/sql-api/sql-statements/.

Use :func:`install` on a connection once its own set-up is done. wranglerpy's own statements
(``BEGIN IMMEDIATE`` around a batch, ``PRAGMA page_count`` for ``meta.size_after``) run inside
:meth:`SQLAuthorizer.trusted`.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DENIED", "SQLAuthorizer", "denied_statement", "install"]

DENIED = "not authorized"

# SQLite's core, date, aggregate, window, math, JSON, FTS5 and ALTER helper functions.
# Left out on purpose (as on Cloudflare): sqlite_version(), sqlite_source_id(),
# sqlite_compileoption_*(), sqlite_offset() and every function an extension would add.
ALLOWED_FUNCTIONS = frozenset(
    """
    abs changes char coalesce concat concat_ws format glob hex ifnull iif instr
    last_insert_rowid length like likelihood likely load_extension lower ltrim max_scalar
    min_scalar nullif octet_length printf quote random randomblob replace round rtrim sign
    soundex substr substring total_changes trim typeof unhex unicode unlikely upper zeroblob
    date time datetime julianday unixepoch strftime timediff current_date current_time
    current_timestamp
    avg count group_concat max min string_agg sum total
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
    nth_value
    acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10
    log2 mod pi pow power radians sin sinh sqrt tan tanh trunc
    json jsonb json_array jsonb_array json_array_length json_extract jsonb_extract -> ->>
    json_insert jsonb_insert json_object jsonb_object json_patch jsonb_patch json_remove
    jsonb_remove json_replace jsonb_replace json_set jsonb_set json_type json_valid json_quote
    json_group_array jsonb_group_array json_group_object jsonb_group_object json_each json_tree
    match highlight bm25 snippet rtreecheck
    sqlite_rename_column sqlite_rename_table sqlite_rename_test sqlite_drop_column
    sqlite_rename_quotefix
    """.split()
)

# PRAGMA name -> what its argument may be. "none": read only; "bool": read or set on/off;
# "name": a table or index name (required); "opt-name": optional name; "opt-int": optional
# integer; "opt-int-or-name": optional integer or name.
ALLOWED_PRAGMAS = {
    "data_version": "none",
    "page_size": "none",  # read only: the R*Tree module reads it; setting it stays denied
    "case_sensitive_like": "bool",
    "foreign_keys": "bool",
    "defer_foreign_keys": "bool",
    "ignore_check_constraints": "bool",
    "legacy_alter_table": "bool",
    "recursive_triggers": "bool",
    "reverse_unordered_selects": "bool",
    "foreign_key_check": "opt-name",
    "foreign_key_list": "name",
    "index_info": "name",
    "index_list": "name",
    "index_xinfo": "name",
    "quick_check": "opt-int-or-name",
    "optimize": "opt-int",
}
_BOOLEANS = ("true", "false", "yes", "no", "on", "off", "1", "0")
# Virtual-table modules Cloudflare offers (full-text search and R*Tree).
_MODULES = frozenset({"fts5", "fts5vocab", "rtree", "rtree_i32"})
# Statements SQLite's authorizer never sees but Cloudflare refuses.
_DENIED_WORDS = frozenset({"VACUUM"})
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?(\*/|\Z)", re.S)
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")

_ALWAYS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_RECURSIVE,
        sqlite3.SQLITE_ANALYZE,  # PRAGMA optimize issues a bare ANALYZE
    }
)
_NAMED_1 = frozenset(
    {
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_DELETE,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_INSERT,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_DROP_VIEW,
        sqlite3.SQLITE_REINDEX,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_UPDATE,
    }
)
_NAMED_2 = frozenset(
    {
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_DROP_TRIGGER,
    }
)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


class SQLAuthorizer:
    """The callback for ``Connection.set_authorizer``; deny-by-default outside :meth:`trusted`.

    ``reserved_prefix`` names objects worker SQL may not touch (Cloudflare keeps its own
    tables under ``_cf_``).
    """

    def __init__(self, reserved_prefix: str = "_cf_") -> None:
        self.reserved_prefix = reserved_prefix.lower()
        self._trusted = threading.local()

    @contextmanager
    def trusted(self) -> Iterator[None]:
        """Statements prepared in this block are wranglerpy's own and are not checked."""
        depth = getattr(self._trusted, "depth", 0)
        self._trusted.depth = depth + 1
        try:
            yield
        finally:
            self._trusted.depth = depth

    def allowed_name(self, name: str | None) -> bool:
        return name is not None and not name.lower().startswith(self.reserved_prefix)

    def __call__(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        db_name: str | None,
        trigger: str | None,
    ) -> int:
        if getattr(self._trusted, "depth", 0):
            return sqlite3.SQLITE_OK
        return (
            sqlite3.SQLITE_OK if self.allows(action, arg1, arg2, db_name) else sqlite3.SQLITE_DENY
        )

    def allows(self, action: int, arg1: str | None, arg2: str | None, db_name: str | None) -> bool:
        if action in (sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_DETACH):
            # SQLite passes the schema name first for these two; put the table name first.
            arg1, db_name = arg2, arg1
        if db_name == "temp":
            # Temporary objects would live in a separate file: read/update of temp only.
            return action in (sqlite3.SQLITE_READ, sqlite3.SQLITE_UPDATE) and self.allowed_name(
                arg1
            )
        if db_name is not None and db_name != "main":
            return False  # an attached database
        if action in _ALWAYS:
            return True
        if action in _NAMED_1 or action == sqlite3.SQLITE_ALTER_TABLE:
            return self.allowed_name(arg1)
        if action in _NAMED_2:
            return self.allowed_name(arg1) and self.allowed_name(arg2)
        if action == sqlite3.SQLITE_PRAGMA:
            return self._pragma((arg1 or "").lower(), arg2)
        if action == sqlite3.SQLITE_FUNCTION:
            return (arg2 or "").lower() in ALLOWED_FUNCTIONS
        if action in (sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE):
            return (arg2 or "").lower() in _MODULES and self.allowed_name(arg1)
        # ATTACH, DETACH, transactions and savepoints (the binding's API runs those), temp
        # objects, and anything unknown.
        return False

    def _pragma(self, name: str, arg: str | None) -> bool:
        if name == "table_list":
            return True
        if name in ("table_info", "table_xinfo"):
            return self.allowed_name(arg)
        kind = ALLOWED_PRAGMAS.get(name)
        if kind is None:
            return False
        if arg is None:
            return kind not in ("name",)
        if kind == "none":
            return False
        if kind == "bool":
            value = arg.strip("'\"").lower() if len(arg) >= 2 and arg[0] == arg[-1] else arg.lower()
            return value in _BOOLEANS
        if kind == "opt-int":
            return _is_int(arg)
        if kind == "opt-int-or-name" and _is_int(arg):
            return int(arg) >= 0
        return self.allowed_name(arg)


def denied_statement(sql: str) -> bool:
    """True for statements the authorizer never sees but Cloudflare refuses (``VACUUM``)."""
    match = _FIRST_WORD.match(_COMMENTS.sub(" ", sql))
    return match is not None and match.group(1).upper() in _DENIED_WORDS


# SQLite's limits as Cloudflare sets them (workerd ``SqliteDatabase::setupSecurity``, following
# https://www.sqlite.org/security.html); they match D1's documented limits
# (https://developers.cloudflare.com/d1/platform/limits/): 100 KB statements, 100 bound
# parameters, 100 columns. A query over one fails here as it does there.
LIMITS = {
    "LENGTH": 4 * 1024 * 1024,
    "SQL_LENGTH": 100_000,
    "COLUMN": 100,
    "EXPR_DEPTH": 100,
    "COMPOUND_SELECT": 5,
    "VDBE_OP": 25_000,
    "FUNCTION_ARG": 127,
    "ATTACHED": 0,
    "LIKE_PATTERN_LENGTH": 50,
    "VARIABLE_NUMBER": 100,
    "TRIGGER_DEPTH": 10,
    "WORKER_THREADS": 0,
}


def install(conn: sqlite3.Connection, authorizer: SQLAuthorizer | None = None) -> SQLAuthorizer:
    """Sandbox ``conn``: ``authorizer`` (a new one by default) and Cloudflare's limits."""
    authorizer = authorizer or SQLAuthorizer()
    conn.set_authorizer(authorizer)
    setlimit = getattr(conn, "setlimit", None)  # Python 3.11+
    if setlimit is not None:
        for name, value in LIMITS.items():
            setlimit(getattr(sqlite3, f"SQLITE_LIMIT_{name}"), value)
    return authorizer
