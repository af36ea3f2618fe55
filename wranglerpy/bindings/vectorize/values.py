"""Checking what worker code hands the binding: vector values, ids, namespaces, metadata.

Values may come as a Python list, a numpy array, a ``memoryview``/``array.array``, or a JS typed
array as Pyodide passes it (a ``Float32Array``/``Float64Array`` proxy: ``to_py()`` gives a
``memoryview``). workerd turns a typed array into a plain array before sending it
(``Array.from(vector)`` in ``src/cloudflare/internal/vectorize-api.ts``), so all of these mean
the same vector; values are stored as float32, as Vectorize does ("32 bits precision").
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wranglerpy.bindings.vectorize.limits import (
    MAX_ID_BYTES,
    MAX_METADATA_BYTES,
    MAX_NAMESPACE_BYTES,
    VectorizeError,
)


@dataclass(frozen=True)
class VectorRecord:
    """One checked vector, ready to store."""

    id: str
    values: np.ndarray  # float32, shape (dimensions,)
    namespace: str | None
    metadata: dict[str, Any] | None


def plain(value: Any) -> Any:
    """A JS proxy (anything with ``to_py``) as Python data; other values unchanged."""
    to_py = getattr(value, "to_py", None)
    if callable(to_py) and not isinstance(value, (str, bytes, np.ndarray)):
        return to_py()
    return value


def float_array(raw: Any, dimensions: int, operation: str, what: str) -> np.ndarray:
    """``raw`` as a float32 vector of ``dimensions`` finite numbers, or a VectorizeError."""
    raw = plain(raw)
    if isinstance(raw, (str, bytes, bytearray, Mapping)) or raw is None:
        raise VectorizeError(operation, f"{what} must be an array of numbers")
    if isinstance(raw, memoryview):
        array = np.asarray(raw)
    elif isinstance(raw, np.ndarray):
        array = raw
    elif isinstance(raw, Sequence) or hasattr(raw, "__array__") or hasattr(raw, "tolist"):
        items = raw.tolist() if hasattr(raw, "tolist") else list(raw)
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in items):
            raise VectorizeError(operation, f"{what} must contain only numbers")
        array = np.asarray(items, dtype=np.float64)
    else:
        raise VectorizeError(
            operation, f"{what} must be an array of numbers, got {type(raw).__name__}"
        )
    if array.ndim != 1 or array.dtype.kind not in "fiu":
        raise VectorizeError(operation, f"{what} must be a flat array of numbers")
    if array.shape[0] != dimensions:
        raise VectorizeError(
            operation,
            f"{what} has {array.shape[0]} dimensions, but the index expects {dimensions} "
            "dimensions",
        )
    values = array.astype(np.float32)
    if not np.all(np.isfinite(values)):
        raise VectorizeError(operation, f"{what} contains a value that is not a finite float32")
    return values


def check_id(raw: Any, operation: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise VectorizeError(operation, f"vector id must be a non-empty string, got {raw!r}")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        raise VectorizeError(
            operation, f'vector id "{raw[:80]}" is longer than {MAX_ID_BYTES} bytes'
        )
    return raw


def check_ids(raw: Any, operation: str) -> list[str]:
    raw = plain(raw)
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Sequence):
        raise VectorizeError(operation, "ids must be an array of strings")
    return [check_id(item, operation) for item in raw]


def check_namespace(raw: Any, operation: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise VectorizeError(operation, f"namespace must be a string, got {type(raw).__name__}")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_NAMESPACE_BYTES:
        raise VectorizeError(
            operation, f'namespace "{raw[:80]}" is longer than {MAX_NAMESPACE_BYTES} bytes'
        )
    return raw


def _metadata_json(metadata: Any, where: str, operation: str) -> str:
    try:
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise VectorizeError(operation, f"{where} metadata is not valid JSON: {exc}") from None
    return text


def check_metadata(raw: Any, vector_id: str, operation: str) -> dict[str, Any] | None:
    raw = plain(raw)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise VectorizeError(
            operation, f'metadata of vector "{vector_id}" must be an object of key/value pairs'
        )
    metadata = {str(k): v for k, v in raw.items()}
    text = _metadata_json(metadata, f'vector "{vector_id}"', operation)
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise VectorizeError(
            operation,
            f'metadata of vector "{vector_id}" is {size} bytes; the limit is '
            f"{MAX_METADATA_BYTES} bytes (10 KiB) per vector",
        )
    decoded: dict[str, Any] = json.loads(text)
    return decoded


def check_vector(raw: Any, dimensions: int, operation: str) -> VectorRecord:
    raw = plain(raw)
    if not isinstance(raw, Mapping):
        raise VectorizeError(operation, "each vector must be an object with id and values")
    unknown = sorted(set(raw) - {"id", "values", "namespace", "metadata"})
    if unknown:
        raise VectorizeError(operation, f"unknown vector fields: {', '.join(map(str, unknown))}")
    vector_id = check_id(raw.get("id"), operation)
    if "values" not in raw:
        raise VectorizeError(operation, f'vector "{vector_id}" has no values')
    values = float_array(raw["values"], dimensions, operation, f'vector "{vector_id}"')
    return VectorRecord(
        id=vector_id,
        values=values,
        namespace=check_namespace(raw.get("namespace"), operation),
        metadata=check_metadata(raw.get("metadata"), vector_id, operation),
    )


def metadata_at(metadata: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a dotted ``path`` (``"pandas.nice"`` reads ``{"pandas": {"nice": ...}}``);
    ``None`` when absent."""
    node: Any = metadata
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def as_float(value: np.floating[Any] | float) -> float:
    """A float32 as the double JSON would carry (58.8 reads back as 58.79999923706055)."""
    number = float(value)
    return number if math.isfinite(number) else 0.0
