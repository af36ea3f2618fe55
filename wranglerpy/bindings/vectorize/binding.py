"""``env.<VECTORIZE>``: the Vectorize (V2) binding, with the methods and result shapes of
workerd's ``VectorizeIndexImpl`` (``src/cloudflare/internal/vectorize-api.ts``,
``vectorize.d.ts``): ``insert``, ``upsert``, ``query``, ``queryById``, ``getByIds``,
``deleteByIds``, ``describe``.

One deliberate difference: Cloudflare applies mutations asynchronously ("a few seconds");
here a mutation is applied before its ``mutationId`` is returned, so a test can query at once.
All work happens on a thread (one at a time per binding), so a first query that has to build
the approximate index does not stall the worker's other requests.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from wranglerpy.bindings.vectorize import limits as lim
from wranglerpy.bindings.vectorize.ann import ANN_FILE
from wranglerpy.bindings.vectorize.engine import ANN_THRESHOLD, Engine, Hit
from wranglerpy.bindings.vectorize.filters import Clause, parse_filter
from wranglerpy.bindings.vectorize.limits import IndexNotFoundError, VectorizeError
from wranglerpy.bindings.vectorize.store import IndexStore
from wranglerpy.bindings.vectorize.values import (
    VectorRecord,
    as_float,
    check_id,
    check_ids,
    check_namespace,
    check_vector,
    float_array,
    plain,
)
from wranglerpy.jsobject import as_js_object, options

T = TypeVar("T")
log = logging.getLogger("wranglerpy.vectorize")


class VectorizeIndexBinding:
    def __init__(
        self,
        path: Path,
        index_name: str,
        ann_threshold: int = ANN_THRESHOLD,
        build_in_background: bool = True,
    ) -> None:
        self._path = path
        self._name = index_name
        self._ann_threshold = ann_threshold
        self._wait_for_ann = not build_in_background
        self._lock = threading.Lock()
        self._store: IndexStore | None = None
        self._engine: Engine | None = None
        self._inode: int | None = None
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"<VectorizeIndex {self._name}>"

    # -- plumbing ------------------------------------------------------------------------

    def _open(self, operation: str) -> tuple[IndexStore, Engine]:
        """The store and engine, reopened when the index was deleted and created again."""
        try:
            inode = os.stat(self._path).st_ino
        except FileNotFoundError:
            self._drop()
            raise VectorizeError(operation, str(IndexNotFoundError(self._name))) from None
        if self._store is None or self._engine is None or inode != self._inode:
            self._drop()
            store = IndexStore(self._path)
            config = store.config
            self._engine = Engine(
                config.dimensions,
                config.metric,
                self._path.with_name(ANN_FILE),
                self._ann_threshold,
            )
            self._store, self._inode = store, inode
        return self._store, self._engine

    def _drop(self) -> None:
        if self._store is not None:
            self._store.close()
        self._store = self._engine = None
        self._inode = None

    def _sync(self, store: IndexStore, engine: Engine) -> None:
        delta = store.changes_since(engine.seq, engine.indexes_version)
        if delta is not None:
            engine.apply(delta)

    async def _run(self, fn: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return fn()

        return await asyncio.to_thread(locked)

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- mutations -----------------------------------------------------------------------

    def _records(self, vectors: Any, operation: str, dimensions: int) -> list[VectorRecord]:
        vectors = plain(vectors)
        if isinstance(vectors, (str, bytes, dict)) or not hasattr(vectors, "__iter__"):
            raise VectorizeError(operation, "vectors must be an array of vector objects")
        items = list(vectors)
        if len(items) > lim.MAX_WORKER_BATCH:
            raise VectorizeError(
                operation,
                f"a batch holds at most {lim.MAX_WORKER_BATCH} vectors from a Worker, "
                f"got {len(items)}",
            )
        return [check_vector(item, dimensions, operation) for item in items]

    def _write(self, vectors: Any, operation: str, replace: bool) -> Any:
        store, _ = self._open(operation)
        records = self._records(vectors, operation, store.config.dimensions)
        mutation = store.write(records, replace=replace)
        return as_js_object({"mutationId": mutation})

    async def insert(self, vectors: Any) -> Any:
        """Insert vectors; ids already in the index are left as they are."""
        return await self._run(lambda: self._write(vectors, lim.INSERT, replace=False))

    async def upsert(self, vectors: Any) -> Any:
        """Insert vectors, replacing (not merging) any with the same id."""
        return await self._run(lambda: self._write(vectors, lim.UPSERT, replace=True))

    async def deleteByIds(self, ids: Any) -> Any:  # noqa: N802 - the JS name
        def run() -> Any:
            store, _ = self._open(lim.DELETE)
            mutation = store.delete(check_ids(ids, lim.DELETE))
            return as_js_object({"mutationId": mutation})

        return await self._run(run)

    # -- reads ---------------------------------------------------------------------------

    async def getByIds(self, ids: Any) -> Any:  # noqa: N802 - the JS name
        def run() -> Any:
            store, _ = self._open(lim.GET)
            return as_js_object(store.get(check_ids(ids, lim.GET)))

        return await self._run(run)

    async def describe(self) -> Any:
        def run() -> Any:
            store, _ = self._open(lim.INDEX_GET)
            return as_js_object(store.info())

        return await self._run(run)

    async def query(self, vector: Any, opts: Any = None, **kwargs: Any) -> Any:
        """The ``topK`` nearest vectors (filtered first, then ranked)."""
        settings = _query_options(opts, kwargs)
        return await self._run(lambda: self._query(settings, vector=vector))

    async def queryById(self, vectorId: Any, opts: Any = None, **kwargs: Any) -> Any:  # noqa: N802, N803
        """Like ``query``, with the stored values of ``vectorId`` as the query vector."""
        settings = _query_options(opts, kwargs)
        return await self._run(lambda: self._query(settings, vector_id=vectorId))

    def _query(self, settings: dict[str, Any], *, vector: Any = None, vector_id: Any = None) -> Any:
        store, engine = self._open(lim.QUERY)
        top_k, namespace, return_values, level, clauses = _check_query(settings)
        self._sync(store, engine)
        if vector_id is not None:
            vector_id = check_id(vector_id, lim.QUERY)
            row = engine.row_of_id.get(vector_id)
            if row is None:
                return as_js_object({"count": 0, "matches": []})
            query = engine.matrix[row].copy()
        else:
            query = float_array(vector, engine.dimensions, lim.QUERY, "query vector")
        self._warn_unindexed(clauses, engine)
        engine.ensure_ann(wait=self._wait_for_ann)
        hits = engine.search(query, top_k, engine.mask(namespace, clauses))
        return as_js_object(self._matches(store, engine, hits, return_values, level))

    def _matches(
        self,
        store: IndexStore,
        engine: Engine,
        hits: list[Hit],
        return_values: bool,
        level: str,
    ) -> dict[str, Any]:
        metadata = store.metadata_for([h.key for h in hits], level) if level != "none" else {}
        matches = []
        for hit in hits:
            match: dict[str, Any] = {"id": engine.ids[hit.row], "score": hit.score}
            if return_values:
                match["values"] = [as_float(v) for v in engine.matrix[hit.row].tolist()]
            if level != "none":
                match["metadata"] = metadata.get(hit.key, {})
            namespace = engine.namespaces[hit.row]
            if namespace is not None:
                match["namespace"] = namespace
            matches.append(match)
        return {"count": len(matches), "matches": matches}

    def _warn_unindexed(self, clauses: tuple[Clause, ...], engine: Engine) -> None:
        for clause in clauses:
            if clause.path not in engine.columns and clause.path not in self._warned:
                self._warned.add(clause.path)
                log.warning(
                    'Vectorize index "%s" has no metadata index on "%s": the filter sees no '
                    "values for it (as on Cloudflare). Create one with `wranglerpy vectorize "
                    "create-metadata-index %s --property-name %s --type string|number|boolean` "
                    "and write the vectors again.",
                    self._name,
                    clause.path,
                    self._name,
                    clause.path,
                )


def _query_options(opts: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        return options(plain(opts), **kwargs)
    except TypeError as exc:
        raise lim.VectorizeOptionError(f"query options: {exc}") from None


def _check_query(
    settings: dict[str, Any],
) -> tuple[int, str | None, bool, str, tuple[Clause, ...]]:
    level = settings.get("returnMetadata", "none")
    if level is None or level is False:
        level = "none"
    elif level is True:
        level = "all"
    if level not in ("none", "indexed", "all"):
        # workerd checks this in the isolate (vectorize-api.ts, queryImplV2).
        raise lim.VectorizeOptionError(
            'Invalid returnMetadata option. Expected: true, false, "none", "indexed" or '
            f'"all"; got: {level}'
        )
    return_values = bool(settings.get("returnValues", False))
    top_k = settings.get("topK", lim.DEFAULT_TOP_K)
    if isinstance(top_k, float) and top_k.is_integer():
        top_k = int(top_k)
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise VectorizeError(lim.QUERY, f"topK must be a positive integer, got {top_k!r}")
    limit = lim.MAX_TOP_K
    if return_values or level == "all":
        limit = lim.MAX_TOP_K_WITH_VALUES_OR_METADATA
    if top_k > limit:
        why = " when returnValues is true or returnMetadata is 'all'" if limit < 100 else ""
        raise VectorizeError(lim.QUERY, f"topK must be at most {limit}{why}, got {top_k}")
    namespace = check_namespace(settings.get("namespace"), lim.QUERY)
    raw_filter = plain(settings.get("filter"))
    clauses = parse_filter(raw_filter) if raw_filter is not None else ()
    return int(top_k), namespace, return_values, level, clauses
