"""The local Analytics Engine dataset: ``writeDataPoint`` stores every point in SQLite.

Each write is one synchronous INSERT in WAL mode (tens of microseconds), so nothing is
buffered in memory and a point survives even a ``kill -9`` right after the call returns.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.errors import BindingError
from wranglerpy.jsobject import options

MAX_BLOBS = 20
MAX_DOUBLES = 20
MAX_INDEXES = 1
MAX_INDEX_BYTES = 96
MAX_BLOB_BYTES = 800 * MAX_BLOBS  # 16,000 (workerd analytics-engine-impl.h:14)

BLOB_COLUMNS = [f"blob{i}" for i in range(1, MAX_BLOBS + 1)]
DOUBLE_COLUMNS = [f"double{i}" for i in range(1, MAX_DOUBLES + 1)]
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS points (\n"
    "    timestamp REAL NOT NULL,  -- epoch seconds (UTC)\n"
    "    _sample_interval INTEGER NOT NULL DEFAULT 1,\n"
    "    index1 TEXT NOT NULL DEFAULT '',\n"
    + "".join(f"    {c} TEXT NOT NULL DEFAULT '',\n" for c in BLOB_COLUMNS)
    + ",\n".join(f"    {c} REAL NOT NULL DEFAULT 0" for c in DOUBLE_COLUMNS)
    + "\n);\nCREATE INDEX IF NOT EXISTS points_timestamp ON points (timestamp);\n"
)
COLUMNS = ["timestamp", "_sample_interval", "index1", *BLOB_COLUMNS, *DOUBLE_COLUMNS]
INSERT = f"INSERT INTO points ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


class AnalyticsEngineError(BindingError, TypeError):
    """A data point Cloudflare would reject (a ``TypeError`` there too)."""


def setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def _text(value: Any, what: str) -> tuple[str, int]:
    """A blob or index as stored text, and its size in bytes."""
    if value is None:
        return "", 0
    if isinstance(value, str):
        return value, len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        # The SQL API returns blobs as strings; invalid UTF-8 is replaced, as it would be there.
        return raw.decode("utf-8", "replace"), len(raw)
    raise AnalyticsEngineError(
        f"writeDataPoint(): {what} must be a string, bytes or None, got {type(value).__name__}."
    )


def _sequence(point: dict[str, Any], name: str) -> Sequence[Any]:
    value = point.get(name)
    if value is None:
        return ()
    if hasattr(value, "to_py"):
        value = value.to_py()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise AnalyticsEngineError(
            f"writeDataPoint(): {name} must be an array, got {type(value).__name__}."
        )
    return value


def row_for(point: dict[str, Any], now: float) -> tuple[Any, ...]:
    """The INSERT parameters for one data point, after Cloudflare's checks."""
    unknown = sorted(set(point) - {"blobs", "doubles", "indexes"})
    if unknown:
        raise AnalyticsEngineError(
            f"writeDataPoint(): unknown field(s) {unknown}; a data point has blobs, doubles "
            "and indexes."
        )
    blobs = _sequence(point, "blobs")
    doubles = _sequence(point, "doubles")
    indexes = _sequence(point, "indexes")
    # workerd's order and words (analytics-engine.c++:46-55, analytics-engine-impl.h).
    if len(indexes) > MAX_INDEXES:
        raise AnalyticsEngineError(f"writeDataPoint(): Maximum of {MAX_INDEXES} indexes supported.")
    index, index_size = _text(indexes[0] if indexes else None, "indexes[0]")
    if index_size > MAX_INDEX_BYTES:
        raise AnalyticsEngineError(
            f"writeDataPoint(): Size of indexes[0] exceeds {MAX_INDEX_BYTES} bytes)."
        )
    if len(blobs) > MAX_BLOBS:
        raise AnalyticsEngineError(f"writeDataPoint(): Maximum of {MAX_BLOBS} blobs supported.")
    texts = [_text(b, f"blobs[{i}]") for i, b in enumerate(blobs)]
    total = sum(size for _, size in texts)
    if total > MAX_BLOB_BYTES:
        raise AnalyticsEngineError(
            f"writeDataPoint(): Cumulative size of blobs exceeds {MAX_BLOB_BYTES} bytes)."
        )
    if len(doubles) > MAX_DOUBLES:
        raise AnalyticsEngineError(f"writeDataPoint(): Maximum of {MAX_DOUBLES} doubles supported.")
    numbers: list[float] = []
    for i, d in enumerate(doubles):
        if isinstance(d, bool) or not isinstance(d, (int, float)):
            raise AnalyticsEngineError(
                f"writeDataPoint(): doubles[{i}] must be a number, got {type(d).__name__}."
            )
        number = float(d)
        if math.isnan(number):
            # SQLite stores NaN as NULL, so the point could not be read back as written: refused
            # here (a listed deviation, docs/fidelity.md) rather than lost or changed.
            raise AnalyticsEngineError(
                f"writeDataPoint(): doubles[{i}] is NaN, which the local dataset cannot store."
            )
        numbers.append(number)
    padded_blobs = [t for t, _ in texts] + [""] * (MAX_BLOBS - len(texts))
    padded_doubles = numbers + [0.0] * (MAX_DOUBLES - len(numbers))
    return (now, 1, index, *padded_blobs, *padded_doubles)


class AnalyticsEngineBinding:
    """``env.<Analytics Engine binding>``: ``writeDataPoint(point)``, not awaited.

    ``clock`` returns epoch seconds; tests pass a fake one.
    """

    def __init__(
        self, path: Path, *, dataset: str = "", clock: Callable[[], float] = time.time
    ) -> None:
        self.dataset = dataset
        self._clock = clock
        self._store = SQLiteStore(path, setup)

    def __repr__(self) -> str:
        return f"AnalyticsEngineDataset({self.dataset!r})"

    def writeDataPoint(self, point: Any = None, **kwargs: Any) -> None:  # noqa: N802 - the JS name
        """Store one data point (blobs, doubles, indexes) with the current time."""
        row = row_for(options(point, **kwargs), self._clock())
        self._store.call(lambda c: c.execute(INSERT, row))

    def close(self) -> None:
        self._store.close()
