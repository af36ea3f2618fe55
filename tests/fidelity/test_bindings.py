"""Deliver 8: binding errors and limits in workerd's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from wranglerpy.bindings.analytics_engine.binding import MAX_BLOB_BYTES


def test_analytics_engine_blobs_total_16000_bytes() -> None:
    """workerd src/workerd/api/analytics-engine-impl.h:13-14: 800 bytes x 20 blobs."""
    assert MAX_BLOB_BYTES == 16_000


async def test_kv_key_name_errors_are_type_errors(tmp_path: Path) -> None:
    """workerd src/workerd/api/kv.c++:37-43 validateKeyName."""
    from wranglerpy.bindings.kv.binding import KVNamespaceBinding

    kv = KVNamespaceBinding(tmp_path / "kv.sqlite")
    try:
        with pytest.raises(TypeError, match=r"^Key name cannot be empty\.$"):
            await kv.get("")
        with pytest.raises(TypeError, match=r'^"\.\." is not allowed as a key name\.$'):
            await kv.put("..", "v")
        with pytest.raises(Exception, match="KV GET failed: 414 UTF-8 encoded length of 513"):
            await kv.get("k" * 513)
    finally:
        kv.close()


async def test_d1_empty_sql(tmp_path: Path) -> None:
    """D1 answers a statement with no SQL with "No SQL statements detected."."""
    from wranglerpy.bindings.d1.binding import D1DatabaseBinding

    db = D1DatabaseBinding(tmp_path / "db.sqlite")
    try:
        with pytest.raises(Exception, match=r"D1_ERROR: No SQL statements detected\."):
            await db.prepare("  -- nothing\n").run()
    finally:
        db.close()


async def test_d1_results_are_js_arrays(tmp_path: Path) -> None:
    """D1 answers with JS arrays (cloudflare/internal/d1-api.ts ``raw``/``all``): through
    Pyodide they are ``JsProxy`` arrays, whose ``to_py()`` django-cf calls
    (``run_sync(stmt.raw()).to_py()``, ``response.results.to_py()``)."""
    from wranglerpy.bindings.d1.binding import D1DatabaseBinding

    db = D1DatabaseBinding(tmp_path / "db.sqlite")
    try:
        rows = await db.prepare("SELECT 1 AS one, 'a' AS letter").raw()
        assert rows.to_py() == [[1, "a"]] and rows == [[1, "a"]]
        result = await db.prepare("SELECT 1 AS one").all()
        assert result.results.to_py() == [{"one": 1}]
    finally:
        db.close()


def test_js_error_has_a_stack() -> None:
    """A JS ``Error`` has ``stack``: its string, then where it was made (django-cf's D1 backend
    raises ``Error(Error.new().stack)``)."""
    from js import Error

    assert Error.new().stack.startswith("Error\n    at ")
    assert Error.new("boom").stack.startswith("Error: boom\n")
