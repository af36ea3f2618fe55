"""The approximate index (past the exact-search threshold) and sharing one index between
processes: writes from one process are seen by the next query of another, and a graph file
saved by one process, or broken by a crash, is reused or rebuilt without losing anything."""

import asyncio
import os
import textwrap
from pathlib import Path

import numpy as np

from tests.bindings.processes import assert_intact, kill_mid_write, run_together, spawn
from tests.bindings.vectorize.conftest import open_index
from wranglerpy.bindings.vectorize.ann import ANN_FILE
from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
from wranglerpy.bindings.vectorize.catalog import index_path

DIMS = 16


def clustered(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(20, DIMS))
    return (centers[rng.integers(20, size=count)] + 0.3 * rng.normal(size=(count, DIMS))).astype(
        np.float32
    )


async def fill(binding: VectorizeIndexBinding, vectors: np.ndarray, prefix: str = "v") -> None:
    for start in range(0, len(vectors), 1000):
        batch = vectors[start : start + 1000]
        await binding.upsert(
            [
                {"id": f"{prefix}{start + i}", "values": v, "metadata": {"i": start + i}}
                for i, v in enumerate(batch)
            ]
        )


async def test_ann_recall_against_exact_search(tmp_path: Path) -> None:
    vectors = clustered(3000, 1)
    ann = open_index(tmp_path, "ann", DIMS, "cosine", ann_threshold=1000)
    exact = open_index(tmp_path, "exact", DIMS, "cosine", ann_threshold=10**9)
    try:
        await fill(ann, vectors)
        await fill(exact, vectors)
        queries = clustered(50, 2)
        hits = 0
        for q in queries:
            a = {m.id for m in (await ann.query(q, topK=10)).matches}
            e = {m.id for m in (await exact.query(q, topK=10)).matches}
            hits += len(a & e)
        assert ann._engine is not None and ann._engine.ann is not None
        assert exact._engine is not None and exact._engine.ann is None
        assert hits / (10 * len(queries)) >= 0.95
        assert (tmp_path / "vectorize" / "ann" / ANN_FILE).is_file()
    finally:
        ann.close()
        exact.close()


async def test_ann_sees_later_writes_and_deletes(tmp_path: Path) -> None:
    binding = open_index(tmp_path, "idx", DIMS, "euclidean", ann_threshold=500)
    try:
        await fill(binding, clustered(1000, 3))
        target = np.full(DIMS, 50.0, dtype=np.float32)
        await binding.query(target, topK=1)  # builds the graph
        await binding.upsert([{"id": "far", "values": target}])
        assert (await binding.query(target, topK=1)).matches[0].id == "far"
        await binding.deleteByIds(["far"])
        assert (await binding.query(target, topK=1)).matches[0].id != "far"
    finally:
        binding.close()


async def test_a_saved_graph_is_reused_and_a_broken_one_rebuilt(tmp_path: Path) -> None:
    vectors = clustered(1500, 4)
    first = open_index(tmp_path, "idx", DIMS, "dot-product", ann_threshold=1000)
    await fill(first, vectors)
    q = vectors[7]
    expected = [m.id for m in (await first.query(q, topK=5)).matches]
    first.close()
    ann_file = tmp_path / "vectorize" / "idx" / ANN_FILE
    assert ann_file.is_file()
    for damage in (None, b"not a usearch file"):
        if damage is not None:
            ann_file.write_bytes(damage)
        again = VectorizeIndexBinding(
            index_path(tmp_path, "idx"), "idx", ann_threshold=1000, build_in_background=False
        )
        try:
            assert [m.id for m in (await again.query(q, topK=5)).matches] == expected
        finally:
            again.close()


async def test_queries_are_exact_while_the_graph_builds_in_the_background(tmp_path: Path) -> None:
    vectors = clustered(1200, 5)
    binding = open_index(
        tmp_path, "bg", DIMS, "cosine", ann_threshold=1000, build_in_background=True
    )
    exact = open_index(tmp_path, "ex", DIMS, "cosine", ann_threshold=10**9)
    try:
        await fill(binding, vectors)
        await fill(exact, vectors)
        q = vectors[3]
        first = await binding.query(q, topK=10)  # starts the build, answers exactly
        assert [m.id for m in first.matches] == [
            m.id for m in (await exact.query(q, topK=10)).matches
        ]
        engine = binding._engine
        assert engine is not None
        if engine._builder is not None:
            await asyncio.to_thread(engine._builder.join)
        await binding.query(q, topK=10)  # installs the finished graph
        assert engine.ann is not None and len(engine.ann) == 1200
        assert (tmp_path / "vectorize" / "bg" / ANN_FILE).is_file()
    finally:
        binding.close()
        exact.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
    path, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    binding = VectorizeIndexBinding(path, "shared")
    wait_for_go(path)
    async def main():
        for i in range(count):
            await binding.upsert([{"id": f"{tag}{i}", "values": [i, 1.0, 0.5], "namespace": tag}])
            if i == 5:
                print("started", flush=True)
    asyncio.run(main())
    binding.close()
    print("done", flush=True)
    """
)


async def test_two_processes_write_one_index_and_a_third_sees_everything(tmp_path: Path) -> None:
    reader = open_index(tmp_path, "shared", 3, "euclidean")
    try:
        assert (await reader.query([1, 1, 0])).count == 0  # the reader's engine is now warm
        path = index_path(tmp_path, "shared")
        procs = [spawn(WRITER, path, tag, 150) for tag in ("a", "b")]
        await asyncio.to_thread(run_together, path, procs)
        assert (await reader.describe()).vectorCount == 300
        for tag in ("a", "b"):
            got = await reader.query([149, 1, 0.5], topK=100, namespace=tag)
            assert got.count == 100 and got.matches[0].id == f"{tag}149"
        assert_intact(path)
    finally:
        reader.close()


async def test_a_writer_killed_mid_batch_leaves_a_consistent_index(tmp_path: Path) -> None:
    open_index(tmp_path, "shared", 3, "cosine").close()
    path = index_path(tmp_path, "shared")
    kill_mid_write(WRITER, path, "k", 100_000)
    assert_intact(path)
    binding = VectorizeIndexBinding(path, "shared")
    try:
        count = (await binding.describe()).vectorCount
        assert count >= 6
        got = await binding.getByIds([f"k{i}" for i in range(count)])
        assert [v.id for v in got] == [f"k{i}" for i in range(count)]
        assert (await binding.query([1, 1, 0.5], topK=100)).count == min(count, 100)
    finally:
        binding.close()
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]
