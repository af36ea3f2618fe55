"""Vectorize metadata filters: parse and check them as Cloudflare does, then evaluate them.

Rules (cloudflare/cloudflare-docs ``src/content/docs/vectorize/reference/metadata-filtering.mdx``,
"Supported operations"):

* the filter is a non-empty object whose compact JSON is less than 2048 bytes;
* keys are non-empty, at most 512 characters, and (per dot-separated part, since a dot means
  nesting: ``"pandas.nice"`` reads ``{"pandas": {"nice": ...}}``) contain no ``"`` and do not
  start with ``$``;
* a bare value is an implicit ``$eq``; several keys are an implicit AND;
* ``$eq``/``$ne`` take a string, number, boolean or null; ``$in``/``$nin`` an array of those;
  ``$lt``/``$lte``/``$gt``/``$gte`` a string or number (strings compare lexicographically);
* an upper bound (``$lt``/``$lte``) may be combined with a lower bound (``$gt``/``$gte``) on one
  key; no other operators may be combined.

Filters only see *indexed* metadata: a property with a metadata index, whose value had the
index's type when the vector was written (vectors written before the index was created are not
in it). Strings are indexed by their first 64 bytes. ``$ne``/``$nin`` and ``$eq: null`` also
match vectors that have no indexed value for the key (the MongoDB reading of the operators).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wranglerpy.bindings.vectorize.limits import (
    MAX_FILTER_JSON_BYTES,
    MAX_FILTER_KEY_CHARS,
    MAX_INDEXED_STRING_BYTES,
    QUERY,
    VectorizeError,
)

Scalar = str | int | float | bool | None

EQUALITY = ("$eq", "$ne")
SETS = ("$in", "$nin")
UPPER = ("$lt", "$lte")
LOWER = ("$gt", "$gte")
OPERATORS = (*EQUALITY, *SETS, *UPPER, *LOWER)


@dataclass(frozen=True)
class Clause:
    """One key's condition. ``op`` is ``$eq``, ``$ne``, ``$in``, ``$nin`` or ``range``."""

    path: str
    op: str
    values: tuple[Scalar, ...] = ()  # $eq/$ne: one value; $in/$nin: the set
    lower: tuple[str, str | float] | None = None  # ("$gt" | "$gte", bound)
    upper: tuple[str, str | float] | None = None  # ("$lt" | "$lte", bound)


def _fail(message: str) -> VectorizeError:
    return VectorizeError(QUERY, f"invalid filter: {message}")


def truncate_utf8(text: str, limit: int = MAX_INDEXED_STRING_BYTES) -> str:
    """The longest well-formed UTF-8 prefix of ``text`` within ``limit`` bytes."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise _fail("keys must be non-empty strings")
    if len(key) > MAX_FILTER_KEY_CHARS:
        raise _fail(f'key "{key[:40]}..." is longer than {MAX_FILTER_KEY_CHARS} characters')
    for part in key.split("."):
        if not part:
            raise _fail(f'key "{key}" has an empty part between dots')
        if '"' in part:
            raise _fail(f'key "{key}" contains a double quote')
        if part.startswith("$"):
            raise _fail(f'key "{key}" starts with "$"')
    return key


def _scalar(value: Any, key: str, op: str) -> Scalar:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise _fail(f'"{key}": {op} takes a string, number, boolean or null')


def _bound(value: Any, key: str, op: str) -> str | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(f'"{key}": {op} takes a string or a number')
    return value


def _clause(key: str, spec: Any) -> Clause:
    if not isinstance(spec, Mapping):
        if isinstance(spec, (list, tuple)):
            raise _fail(f'"{key}": an array needs an operator ($in or $nin)')
        return Clause(key, "$eq", (_scalar(spec, key, "$eq"),))
    ops = list(spec)
    if not ops:
        raise _fail(f'"{key}": an operator object cannot be empty')
    for op in ops:
        if op not in OPERATORS:
            raise _fail(f'"{key}": unknown operator {op!r} (use one of {", ".join(OPERATORS)})')
    if len(ops) > 1:
        uppers = [op for op in ops if op in UPPER]
        lowers = [op for op in ops if op in LOWER]
        if len(ops) != 2 or len(uppers) != 1 or len(lowers) != 1:
            raise _fail(
                f'"{key}": only an upper bound ($lt/$lte) and a lower bound ($gt/$gte) '
                f"can be combined, got {', '.join(ops)}"
            )
    op = ops[0]
    if op in EQUALITY:
        return Clause(key, op, (_scalar(spec[op], key, op),))
    if op in SETS:
        items = spec[op]
        if not isinstance(items, (list, tuple)):
            raise _fail(f'"{key}": {op} takes an array')
        return Clause(key, op, tuple(_scalar(v, key, op) for v in items))
    lower = next(((o, _bound(spec[o], key, o)) for o in ops if o in LOWER), None)
    upper = next(((o, _bound(spec[o], key, o)) for o in ops if o in UPPER), None)
    if lower and upper and isinstance(lower[1], str) != isinstance(upper[1], str):
        raise _fail(f'"{key}": both bounds must be strings or both numbers')
    return Clause(key, "range", lower=lower, upper=upper)


def parse_filter(raw: Any) -> tuple[Clause, ...]:
    """The clauses of a ``filter`` option (already plain Python data)."""
    if not isinstance(raw, Mapping) or not raw:
        raise _fail("must be a non-empty object")
    try:
        compact = json.dumps(raw, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _fail(f"not valid JSON: {exc}") from None
    size = len(compact.encode("utf-8"))
    if size >= MAX_FILTER_JSON_BYTES:
        raise _fail(f"its JSON is {size} bytes; it must be less than {MAX_FILTER_JSON_BYTES}")
    return tuple(_clause(_check_key(key), spec) for key, spec in raw.items())


def type_of(value: Any) -> str | None:
    """The metadata index type a value can be indexed under."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def indexed_value(value: Any, index_type: str) -> Any:
    """What a metadata index of ``index_type`` stores for ``value`` (None: not indexed)."""
    if type_of(value) != index_type:
        return None
    if index_type == "string":
        return truncate_utf8(value)
    if index_type == "boolean":
        return 1 if value else 0
    return float(value)


def matches(clause: Clause, value: Any, index_type: str | None) -> bool:
    """Whether an indexed ``value`` (None: no indexed value) satisfies ``clause``. The
    reference semantics; the SQLite store evaluates the same rules in SQL."""
    present = value is not None and index_type is not None

    def equal(target: Scalar) -> bool:
        if target is None:
            return not present
        if not present or index_type is None:
            return False
        stored = indexed_value(target, index_type)
        return stored is not None and stored == value

    if clause.op == "$eq":
        return equal(clause.values[0])
    if clause.op == "$ne":
        return not equal(clause.values[0])
    if clause.op == "$in":
        return any(equal(v) for v in clause.values)
    if clause.op == "$nin":
        return not any(equal(v) for v in clause.values)
    if not present or index_type not in ("string", "number"):
        return False
    for bound in (clause.lower, clause.upper):
        if bound is None:
            continue
        op, limit = bound
        limit_value = indexed_value(limit, index_type)
        if limit_value is None:
            return False
        if op == "$gt" and not value > limit_value:
            return False
        if op == "$gte" and not value >= limit_value:
            return False
        if op == "$lt" and not value < limit_value:
            return False
        if op == "$lte" and not value <= limit_value:
            return False
    return True
