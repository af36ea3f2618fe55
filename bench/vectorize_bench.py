"""Local Vectorize speed and quality: query p50/p90 (through ``env.VECTORIZE.query``) and
recall@10 against an exact float64 scan, at 10k and 100k vectors of 384 dimensions
(goals: p50 under 5 ms and recall@10 of at least 0.95 at 100k).

    .venv/bin/python bench/vectorize_bench.py                  # 10k and 100k, cosine
    SIZES=10000 QUERIES=100 .venv/bin/python bench/vectorize_bench.py
    DATA=clustered .venv/bin/python bench/vectorize_bench.py   # tight topic clusters (easy)
    DATA=uniform .venv/bin/python bench/vectorize_bench.py     # i.i.d. Gaussian (worst case)
    .venv/bin/python bench/vectorize_bench.py --json

Data: by default embedding-like vectors (a 48-dimensional latent space with decaying variance
projected to 384 dimensions plus noise, unit-normalised: real sentence embeddings have such a
low intrinsic dimension); queries are fresh points from the same distribution. i.i.d. Gaussian
vectors (``DATA=uniform``) have no neighbourhood structure; every graph index, this one
included, recalls far less on them.
The first query past the exact-search threshold builds the HNSW graph; that build time and
the load time of the saved graph in a fresh binding are reported separately. Figures are
medians; on a shared 2-core box wall times vary by tens of percent, so the CPU time per query
(``time.process_time``) is reported beside them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
from wranglerpy.bindings.vectorize.catalog import create_index, index_path

DIMS = 384
SIZES = [int(s) for s in os.environ.get("SIZES", "10000,100000").split(",")]
QUERIES = int(os.environ.get("QUERIES", "200"))
DATA = os.environ.get("DATA", "embedding")
METRIC = os.environ.get("METRIC", "cosine")


def sample(count: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    if DATA == "uniform":
        points = rng.normal(size=(count, DIMS))
    elif DATA == "embedding":
        # A 48-dimensional latent space with decaying variance, projected to 384 dimensions,
        # plus isotropic noise: sentence embeddings have a low intrinsic dimension like this.
        latent = rng.normal(size=(count, 48)) * np.linspace(2.0, 0.2, 48)
        points = latent @ (centres[:48] * np.sqrt(DIMS)) + 0.15 * rng.normal(size=(count, DIMS))
    else:
        picks = centres[rng.integers(len(centres), size=count)]
        points = picks + 0.35 * rng.normal(size=(count, DIMS)) / np.sqrt(DIMS)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


class Exact:
    """The true top 10 by a float64 scan (the recall reference), prepared once per size."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.v = vectors.astype(np.float64)
        self.norms = np.linalg.norm(self.v, axis=1)
        self.sq = self.norms**2

    def top10(self, query: np.ndarray) -> set[int]:
        q = query.astype(np.float64)
        dots = self.v @ q
        if METRIC == "cosine":
            order = -dots / (self.norms * np.linalg.norm(q))
        elif METRIC == "dot-product":
            order = -dots
        else:
            order = self.sq - 2 * dots  # + |q|^2, the same for every row
        return set(np.argpartition(order, 10)[:10].tolist())


async def run_size(size: int, persist: Path) -> dict[str, Any]:
    rng = np.random.default_rng(size)
    centres = rng.normal(size=(1000, DIMS))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = sample(size, rng, centres)
    queries = sample(QUERIES, rng, centres)
    name = f"bench-{size}"
    create_index(persist, name, dimensions=DIMS, metric=METRIC)
    # The graph is built before the first query returns (a worker builds it in the background
    # and answers exactly meanwhile), so first_query_s is the build time.
    binding = VectorizeIndexBinding(index_path(persist, name), name, build_in_background=False)
    started = time.perf_counter()
    for start in range(0, size, 1000):
        batch = vectors[start : start + 1000]
        await binding.upsert([{"id": str(start + i), "values": v} for i, v in enumerate(batch)])
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    await binding.query(queries[0], topK=10)  # syncs, and builds the graph past the threshold
    first_s = time.perf_counter() - started
    engine = binding._engine
    mode = "hnsw (usearch)" if engine is not None and engine.ann is not None else "exact (numpy)"
    # Every timed query first, the float64 reference afterwards: the reference scan reads the
    # whole data set and would otherwise leave each timed query with a cold cache.
    latencies, cpu, found = [], [], []
    for query in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        result = await binding.query(query, topK=10)
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        found.append({int(m.id) for m in result.matches})
    exact = Exact(vectors)
    hits = sum(len(got & exact.top10(q)) for got, q in zip(found, queries, strict=True))
    binding.close()
    fresh = VectorizeIndexBinding(index_path(persist, name), name)
    t0 = time.perf_counter()
    await fresh.query(queries[0], topK=10)  # a second process: loads the saved graph
    reopen_s = time.perf_counter() - t0
    fresh.close()
    latencies.sort()
    return {
        "vectors": size,
        "dimensions": DIMS,
        "metric": METRIC,
        "data": DATA,
        "search": mode,
        "insert_vectors_per_s": round(size / insert_s),
        "first_query_s": round(first_s, 2),
        "reopen_first_query_s": round(reopen_s, 2),
        "query_p50_ms": round(statistics.median(latencies), 3),
        "query_p90_ms": round(latencies[int(0.9 * (len(latencies) - 1))], 3),
        # CPU time of this process per query: what the query costs when the machine is busy
        # and wall time includes waiting for a core.
        "query_cpu_p50_ms": round(statistics.median(cpu), 3),
        "recall_at_10": round(hits / (10 * len(queries)), 4),
    }


async def main() -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            row = await run_size(size, Path(tmp))
            results.append(row)
            if "--json" not in sys.argv:
                print(
                    f"{row['vectors']:>7} x {DIMS}  {row['search']:<15} "
                    f"p50 {row['query_p50_ms']:.2f} ms  p90 {row['query_p90_ms']:.2f} ms  "
                    f"(CPU p50 {row['query_cpu_p50_ms']:.2f} ms)  "
                    f"recall@10 {row['recall_at_10']:.3f}  "
                    f"(insert {row['insert_vectors_per_s']}/s, first query "
                    f"{row['first_query_s']} s, reopened {row['reopen_first_query_s']} s)",
                    flush=True,
                )
    return results


if __name__ == "__main__":
    rows = asyncio.run(main())
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=2))
