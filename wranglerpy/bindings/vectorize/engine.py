"""The in-memory side of an index in one process: the live vectors as one float32 matrix,
their namespaces and indexed metadata as columns, and (past ``ann_threshold`` vectors) an
HNSW graph. :meth:`Engine.sync` applies a :class:`~.store.Delta`; :meth:`Engine.search`
answers a query exactly (numpy) or from the graph with an exact re-ranking of its candidates.

Scores follow Cloudflare's metrics (``vectorize/best-practices/create-indexes.mdx``, "Distance
metrics"): cosine similarity (higher is closer), Euclidean (L2) distance (lower is closer) and
the *negative* dot product (lower is closer).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wranglerpy.bindings.vectorize.ann import Ann
from wranglerpy.bindings.vectorize.ann import available as ann_available
from wranglerpy.bindings.vectorize.filters import Clause, indexed_value
from wranglerpy.bindings.vectorize.store import Delta

log = logging.getLogger("wranglerpy.vectorize")

# Below this many live vectors an exact scan is fast enough (about a millisecond per 10k
# vectors of 384 dimensions) and always right; above it the HNSW graph answers.
ANN_THRESHOLD = 20_000
# A filtered query whose candidates are this few is answered exactly even with a graph.
EXACT_CANDIDATES = 4_096
# Rebuild the graph once this share of its entries are tombstones (recall degrades).
REBUILD_SHARE = 0.25


# Rows per matrix-vector product: small enough that OpenBLAS stays on the calling thread.
# Its threaded path is several times slower here (waking threads costs more than the work,
# and much more on a busy machine), measured at 10k x 384.
_CHUNK = 1024


def _dots(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    out = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), _CHUNK):
        np.matmul(matrix[start : start + _CHUNK], query, out=out[start : start + _CHUNK])
    return out


@dataclass(frozen=True)
class Hit:
    row: int
    key: int
    score: float


class Column:
    """One metadata index's values per row: numbers/booleans as float64, strings as objects."""

    def __init__(self, index_type: str, capacity: int) -> None:
        self.type = index_type
        self.present = np.zeros(capacity, dtype=bool)
        self.values: np.ndarray = (
            np.empty(capacity, dtype=object)
            if index_type == "string"
            else np.zeros(capacity, dtype=np.float64)
        )

    def grow(self, capacity: int) -> None:
        present = np.zeros(capacity, dtype=bool)
        present[: len(self.present)] = self.present
        values = np.empty(capacity, dtype=self.values.dtype)
        values[: len(self.values)] = self.values
        self.present, self.values = present, values


class Engine:
    def __init__(
        self,
        dimensions: int,
        metric: str,
        ann_path: Path | None = None,
        ann_threshold: int = ANN_THRESHOLD,
    ) -> None:
        self.dimensions = dimensions
        self.metric = metric
        self.ann_path = ann_path
        self.ann_threshold = ann_threshold
        self.seq = 0
        self.indexes_version = -1  # forces loading the metadata index set on first sync
        self.n = 0  # rows used (live and dead)
        self.matrix = np.empty((0, dimensions), dtype=np.float32)
        self.norms = np.empty(0, dtype=np.float32)
        self.keys = np.empty(0, dtype=np.int64)
        self.alive = np.empty(0, dtype=bool)
        self.namespaces = np.empty(0, dtype=object)
        self.ids: list[str] = []
        self.row_of_key: dict[int, int] = {}
        self.row_of_id: dict[str, int] = {}
        self.columns: dict[str, Column] = {}
        self.ann: Ann | None = None
        self.ann_added = 0  # vectors added to the graph since it was last saved
        self.warned_no_ann = False
        self._builder: threading.Thread | None = None
        self._built: Ann | None = None
        self._build_failed = False

    # -- keeping up with the store -------------------------------------------------------

    @property
    def live(self) -> int:
        return len(self.row_of_id)

    def apply(self, delta: Delta) -> None:
        for key in delta.removed.tolist():
            self._kill(int(key))
        for vector_id in delta.ids:  # a re-written id: its old row is dead already
            old = self.row_of_id.get(vector_id)
            if old is not None:
                self._kill(int(self.keys[old]))
        first = self.n
        self._append(delta)
        if delta.index_types is not None:
            self.columns = {p: Column(t, len(self.alive)) for p, t in delta.index_types.items()}
        for key, prop, value in delta.indexed:
            row = self.row_of_key.get(int(key))
            column = self.columns.get(prop)
            if row is None or column is None:
                continue
            column.present[row] = True
            column.values[row] = value
        self.seq = delta.seq
        self.indexes_version = delta.indexes_version
        if self.ann is not None:
            self.ann.remove(delta.removed)
            new = slice(first, self.n)
            self.ann.add(self.keys[new], self.matrix[new])
            self.ann_added += self.n - first
            if self.ann.removed > REBUILD_SHARE * max(len(self.ann), 1):
                self.ann = None  # rebuilt by the next ensure_ann from the live rows
            else:
                self._maybe_save()
        if self.n > 2 * max(self.live, 1024):
            self._compact()

    def _append(self, delta: Delta) -> None:
        count = len(delta.ids)
        if not count:
            return
        need = self.n + count
        if need > len(self.alive):
            self._grow(max(need, 2 * len(self.alive), 1024))
        rows = slice(self.n, need)
        self.matrix[rows] = delta.values
        self.norms[rows] = np.linalg.norm(delta.values, axis=1)
        self.keys[rows] = delta.keys
        self.alive[rows] = True
        self.namespaces[rows] = delta.namespaces
        for offset, (key, vector_id) in enumerate(zip(delta.keys.tolist(), delta.ids, strict=True)):
            row = self.n + offset
            self.row_of_key[int(key)] = row
            self.row_of_id[vector_id] = row
        self.ids.extend(delta.ids)
        self.n = need

    def _grow(self, capacity: int) -> None:
        def bigger(array: np.ndarray, fill: Any = 0) -> np.ndarray:
            shape = (capacity, *array.shape[1:])
            out = (
                np.empty(shape, dtype=array.dtype) if fill is None else np.zeros(shape, array.dtype)
            )
            out[: len(array)] = array
            return out

        self.matrix = bigger(self.matrix)
        self.norms = bigger(self.norms)
        self.keys = bigger(self.keys)
        self.alive = bigger(self.alive)
        self.namespaces = bigger(self.namespaces, None)
        for column in self.columns.values():
            column.grow(capacity)

    def _kill(self, key: int) -> None:
        row = self.row_of_key.pop(key, None)
        if row is None:
            return
        self.alive[row] = False
        if self.row_of_id.get(self.ids[row]) == row:
            del self.row_of_id[self.ids[row]]
        for column in self.columns.values():
            column.present[row] = False

    def _compact(self) -> None:
        keep = np.flatnonzero(self.alive[: self.n])
        self.matrix = self.matrix[keep].copy()
        self.norms = self.norms[keep].copy()
        self.keys = self.keys[keep].copy()
        self.alive = np.ones(len(keep), dtype=bool)
        self.namespaces = self.namespaces[keep].copy()
        self.ids = [self.ids[i] for i in keep.tolist()]
        for column in self.columns.values():
            column.present = column.present[keep].copy()
            column.values = column.values[keep].copy()
        self.n = len(keep)
        self.row_of_key = {int(k): i for i, k in enumerate(self.keys.tolist())}
        self.row_of_id = {vector_id: i for i, vector_id in enumerate(self.ids)}

    def ensure_ann(self, wait: bool = False) -> None:
        """Load or build the graph once the index is big enough (and drop it below that).

        A saved graph is loaded at once; a new one is built on a background thread (minutes
        for 100k vectors on a busy machine) while queries are answered exactly, unless
        ``wait``. The finished graph is installed by the first call after it is ready."""
        if self.live < self.ann_threshold:
            self.ann = None
            return
        if self.ann is not None:
            return
        if self._build_failed:
            return
        if not ann_available():
            if not self.warned_no_ann:
                self.warned_no_ann = True
                log.warning(
                    "usearch is not installed: this Vectorize index of %d vectors is searched "
                    "exactly (slower). Install it with: pip install 'wranglerpy[vectorize]'",
                    self.live,
                )
            return
        if self._builder is None:
            loaded = Ann.load(self.ann_path, self.dimensions) if self.ann_path else None
            if loaded is not None:
                self._install(loaded, saved=True)
                return
            self._start_build()
        assert self._builder is not None
        if wait:
            self._builder.join()
        if not self._builder.is_alive():
            built, self._builder, self._built = self._built, None, None
            if built is not None:
                self._install(built, saved=True)

    def _start_build(self) -> None:
        live = np.flatnonzero(self.alive[: self.n])
        keys, vectors = self.keys[live].copy(), self.matrix[live].copy()
        path = self.ann_path

        def build() -> None:
            try:
                ann = Ann.build(self.dimensions, self.metric, keys, vectors)
                if path is not None:
                    ann.save(path)
                self._built = ann
            except Exception:  # noqa: BLE001 - logged; queries stay exact in this process
                self._build_failed = True
                log.exception("building the Vectorize graph failed; searching exactly")

        self._builder = threading.Thread(target=build, name="vectorize-ann-build", daemon=True)
        self._builder.start()

    def _install(self, ann: Ann, *, saved: bool) -> None:
        """Use ``ann`` after adding what it misses and removing what is gone since."""
        live = np.flatnonzero(self.alive[: self.n])
        dead = np.setdiff1d(np.arange(1, self.seq + 1, dtype=np.int64), self.keys[live])
        added = ann.reconcile(self.keys[live], self.matrix[live], dead)
        self.ann = ann
        self.ann_added = added if saved else len(ann)
        self._maybe_save()

    def _maybe_save(self) -> None:
        if self.ann is None or self.ann_path is None:
            return
        if self.ann_added > 0.1 * max(len(self.ann), 1):
            self.ann.save(self.ann_path)
            self.ann_added = 0

    # -- answering ------------------------------------------------------------------------

    def mask(self, namespace: str | None, clauses: Sequence[Clause]) -> np.ndarray:
        mask = self.alive[: self.n].copy()
        if namespace is not None:
            mask &= self.namespaces[: self.n] == namespace
        for clause in clauses:
            mask &= self._clause_mask(clause)
        return mask

    def _clause_mask(self, clause: Clause) -> np.ndarray:
        column = self.columns.get(clause.path)
        n = self.n
        present = column.present[:n] if column else np.zeros(n, dtype=bool)

        def equal(target: Any) -> np.ndarray:
            if target is None:
                return ~present
            if column is None:
                return np.zeros(n, dtype=bool)
            stored = indexed_value(target, column.type)
            if stored is None:
                return np.zeros(n, dtype=bool)
            return present & (column.values[:n] == stored)

        if clause.op == "$eq":
            return equal(clause.values[0])
        if clause.op == "$ne":
            return ~equal(clause.values[0])
        if clause.op in ("$in", "$nin"):
            hit = np.zeros(n, dtype=bool)
            for target in clause.values:
                hit |= equal(target)
            return hit if clause.op == "$in" else ~hit
        if column is None or column.type not in ("string", "number"):
            return np.zeros(n, dtype=bool)
        result = present.copy()
        values = column.values[:n]
        for bound in (clause.lower, clause.upper):
            if bound is None:
                continue
            op, limit = bound
            stored = indexed_value(limit, column.type)
            if stored is None:
                return np.zeros(n, dtype=bool)
            rows = np.flatnonzero(result)
            picked = values[rows]
            ok = {
                "$gt": picked > stored,
                "$gte": picked >= stored,
                "$lt": picked < stored,
                "$lte": picked <= stored,
            }[op]
            result[rows] = np.asarray(ok, dtype=bool)
        return result

    def search(self, query: np.ndarray, top_k: int, mask: np.ndarray) -> list[Hit]:
        candidates = int(mask.sum())
        if candidates == 0:
            return []
        if self.ann is not None and candidates > EXACT_CANDIDATES:
            hits = self._search_ann(query, top_k, mask, candidates)
            if hits is not None:
                return hits
        return self._search_exact(query, top_k, mask, candidates)

    def _order(self, query: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        """Lower-is-closer ranking keys for ``rows`` (None: every used row, read in place
        instead of copied)."""
        matrix = self.matrix[: self.n] if rows is None else self.matrix[rows]
        norms = self.norms[: self.n] if rows is None else self.norms[rows]
        dots = _dots(matrix, query)
        if self.metric == "cosine":
            denom = norms * np.float32(np.linalg.norm(query))
            with np.errstate(divide="ignore", invalid="ignore"):
                sims = np.where(denom > 0, dots / denom, 0.0)
            return np.asarray(-sims)
        if self.metric == "dot-product":
            return np.asarray(-dots)
        sq = norms**2 + np.float32(query @ query) - 2 * dots
        return np.asarray(np.sqrt(np.maximum(sq, 0.0)))

    def _hits(
        self, query: np.ndarray, rows: np.ndarray, top_k: int, order: np.ndarray
    ) -> list[Hit]:
        if len(rows) > top_k:
            part = np.argpartition(order, top_k - 1)[:top_k]
            rows, order = rows[part], order[part]
        ranked = np.lexsort((rows, order))  # ties: the earlier-written vector first
        out = []
        for i in ranked.tolist():
            row = int(rows[i])
            out.append(Hit(row, int(self.keys[row]), self._score(query, row)))
        return out

    def _score(self, query: np.ndarray, row: int) -> float:
        """The exact score of one row, computed in float64 for a stable result."""
        vector = self.matrix[row].astype(np.float64)
        q = query.astype(np.float64)
        if self.metric == "cosine":
            denom = float(np.linalg.norm(vector) * np.linalg.norm(q))
            return float(vector @ q) / denom if denom > 0 else 0.0
        if self.metric == "dot-product":
            return -float(vector @ q)
        return float(np.linalg.norm(vector - q))

    def _search_exact(
        self, query: np.ndarray, top_k: int, mask: np.ndarray, candidates: int
    ) -> list[Hit]:
        rows = np.flatnonzero(mask)
        if candidates > self.n // 2:  # score every row in place, then keep the masked ones
            order = self._order(query, None)[rows]
        else:
            order = self._order(query, rows)
        return self._hits(query, rows, top_k, order)

    def _search_ann(
        self, query: np.ndarray, top_k: int, mask: np.ndarray, candidates: int
    ) -> list[Hit] | None:
        assert self.ann is not None
        filtered = candidates < self.live
        count = max(4 * top_k, 64) if not filtered else max(16 * top_k, 256)
        while True:
            keys = self.ann.search(query, min(count, len(self.ann)))
            rows = np.fromiter(
                (self.row_of_key.get(int(k), -1) for k in keys.tolist()),
                dtype=np.int64,
                count=len(keys),
            )
            rows = rows[rows >= 0]
            rows = rows[mask[rows]]
            if len(rows) >= top_k or count >= len(self.ann):
                return self._hits(query, rows, top_k, self._order(query, rows))
            if count >= 8 * EXACT_CANDIDATES:
                return None  # a very selective filter: scan exactly instead
            count *= 4
