"""What ``wranglerpy vectorize`` does to a local index, without printing: NDJSON uploads,
metadata indexes, and the id listing. The CLI module only parses arguments and prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.bindings.vectorize.catalog import get_index, index_path
from wranglerpy.bindings.vectorize.filters import _check_key
from wranglerpy.bindings.vectorize.limits import (
    INSERT,
    MAX_HTTP_BATCH,
    MAX_LIST_PAGE,
    MAX_METADATA_INDEXES,
    METADATA_TYPES,
    UPSERT,
    VectorizeError,
)
from wranglerpy.bindings.vectorize.store import IndexStore
from wranglerpy.bindings.vectorize.values import VectorRecord, check_vector
from wranglerpy.errors import BindingError, UsageError

DEFAULT_BATCH = 1000  # wrangler's VECTORIZE_UPSERT_BATCH_SIZE


@dataclass(frozen=True)
class Upload:
    count: int
    mutations: tuple[str, ...]


def open_store(persist_dir: Path, name: str) -> IndexStore:
    get_index(persist_dir, name)  # a clear error when it does not exist
    return IndexStore(index_path(persist_dir, name))


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}") from None


def upload(
    persist_dir: Path, name: str, file: Path, *, replace: bool, batch_size: int = DEFAULT_BATCH
) -> Upload:
    """Insert or upsert the vectors of an NDJSON file (one ``{"id", "values", ...}`` object
    per line) in batches. A bad line stops the upload before its batch is written and names
    the line; earlier batches stay written, as they would on Cloudflare."""
    if not file.is_file() or file.stat().st_size == 0:
        raise UsageError(f"🚨 Cannot read invalid or empty file: {file}.")
    if not 1 <= batch_size <= MAX_HTTP_BATCH:
        raise UsageError(
            f"🚨 Vectorize V2 indexes currently limit upload batches to {MAX_HTTP_BATCH} "
            f"records at a time; got --batch-size {batch_size}."
        )
    operation = UPSERT if replace else INSERT
    store = open_store(persist_dir, name)
    try:
        dimensions = store.config.dimensions
        batch: list[VectorRecord] = []
        count, mutations = 0, []
        for number, line in _lines(file):
            try:
                raw = json.loads(line)
                batch.append(check_vector(raw, dimensions, operation))
            except json.JSONDecodeError as exc:
                raise UsageError(f"{file}:{number}: not valid JSON: {exc.msg}") from None
            except VectorizeError as exc:
                raise UsageError(f"{file}:{number}: {exc.reason}") from None
            if len(batch) >= batch_size:
                mutations.append(store.write(batch, replace=replace))
                count, batch = count + len(batch), []
        if batch:
            mutations.append(store.write(batch, replace=replace))
            count += len(batch)
        return Upload(count, tuple(mutations))
    finally:
        store.close()


def create_metadata_index(persist_dir: Path, name: str, prop: str, index_type: str) -> str:
    if index_type not in METADATA_TYPES:
        raise UsageError(f'--type must be one of {", ".join(METADATA_TYPES)}, got "{index_type}"')
    try:
        _check_key(prop)
    except VectorizeError as exc:
        raise UsageError(f"Invalid --property-name: {exc.reason}") from None
    store = open_store(persist_dir, name)
    try:
        existing = dict(store.metadata_indexes())
        if prop in existing:
            raise BindingError(f'A metadata index on "{prop}" already exists on "{name}".')
        if len(existing) >= MAX_METADATA_INDEXES:
            raise BindingError(
                f'"{name}" already has {MAX_METADATA_INDEXES} metadata indexes, the most a '
                "Vectorize index can have."
            )
        return store.create_metadata_index(prop, index_type)
    finally:
        store.close()


def list_metadata_indexes(persist_dir: Path, name: str) -> list[dict[str, str]]:
    store = open_store(persist_dir, name)
    try:
        return [{"propertyName": p, "indexType": t} for p, t in store.metadata_indexes()]
    finally:
        store.close()


def delete_metadata_index(persist_dir: Path, name: str, prop: str) -> str:
    store = open_store(persist_dir, name)
    try:
        if prop not in dict(store.metadata_indexes()):
            raise BindingError(f'"{name}" has no metadata index on "{prop}".')
        return store.delete_metadata_index(prop)
    finally:
        store.close()


def list_vectors(
    persist_dir: Path, name: str, count: int | None, cursor: str | None
) -> dict[str, object]:
    size = count if count is not None else 100
    if not 1 <= size <= MAX_LIST_PAGE:
        raise UsageError(f"--count must be between 1 and {MAX_LIST_PAGE}, got {size}")
    store = open_store(persist_dir, name)
    try:
        ids, total, next_cursor = store.list_ids(size, cursor)
    finally:
        store.close()
    out: dict[str, object] = {
        "count": len(ids),
        "totalCount": total,
        "isTruncated": next_cursor is not None,
        "vectors": [{"id": i} for i in ids],
    }
    if next_cursor is not None:
        out["nextCursor"] = next_cursor
    return out
