"""The Vectorize binding's API: shapes, limits and errors (workerd
``src/cloudflare/internal/vectorize-api.ts`` and ``vectorize.d.ts``; limits from
cloudflare-docs ``src/content/docs/vectorize/platform/limits.mdx``)."""

import array
from pathlib import Path

import numpy as np
import pytest

from tests.bindings.vectorize.conftest import open_index
from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
from wranglerpy.bindings.vectorize.catalog import delete_index
from wranglerpy.bindings.vectorize.limits import VectorizeError, VectorizeOptionError
from wranglerpy.jsobject import JSObject


class Float32ArrayProxy:
    """What a Pyodide JsProxy of a ``Float32Array`` offers: ``to_py()`` gives a memoryview."""

    def __init__(self, values: list[float]) -> None:
        self._data = array.array("f", values)

    def to_py(self) -> memoryview:
        return memoryview(self._data)


async def test_insert_query_and_result_shape(index: VectorizeIndexBinding) -> None:
    result = await index.insert(
        [
            {"id": "a", "values": [1, 0, 0], "metadata": {"t": "x"}},
            {"id": "b", "values": [0, 1, 0], "namespace": "ns"},
        ]
    )
    assert isinstance(result, JSObject) and isinstance(result.mutationId, str)
    matches = await index.query([1, 0.1, 0], topK=2, returnValues=True, returnMetadata="all")
    assert matches.count == 2
    first, second = matches.matches
    assert first.id == "a" and first.metadata == {"t": "x"} and first.values == [1.0, 0.0, 0.0]
    assert first.score == pytest.approx(1 / np.sqrt(1.01))
    assert second.namespace == "ns" and second.metadata == {}
    assert "values" not in (await index.query([1, 0, 0])).matches[0]


async def test_values_may_be_numpy_memoryview_or_a_typed_array_proxy(
    index: VectorizeIndexBinding,
) -> None:
    await index.upsert(
        [
            {"id": "np", "values": np.array([1, 2, 3], dtype=np.float64)},
            {"id": "mv", "values": memoryview(array.array("d", [3, 2, 1]))},
            {"id": "ta", "values": Float32ArrayProxy([0.5, 0.5, 0.5])},
        ]
    )
    got = await index.getByIds(["ta", "np", "missing", "mv"])
    assert [v.id for v in got] == ["ta", "np", "mv"]
    assert got[0].values == [0.5, 0.5, 0.5]
    result = await index.query(Float32ArrayProxy([1, 2, 3]), {"topK": 1})
    assert result.matches[0].id == "np"


async def test_float32_precision_is_kept_as_cloudflare_returns_it(
    index: VectorizeIndexBinding,
) -> None:
    """Values are stored as float32 ("32 bits precision", limits.mdx): 58.8 reads back as
    58.79999923706055, as in metadata-filtering.mdx's example output."""
    await index.upsert([{"id": "x", "values": [58.8, 6.7, 3.4]}])
    (vector,) = await index.getByIds(["x"])
    assert vector.values[0] == 58.79999923706055


async def test_insert_keeps_existing_ids_and_upsert_replaces_them(
    index: VectorizeIndexBinding,
) -> None:
    """client-api.mdx: insert only adds new ids; upsert replaces the vector in full."""
    await index.insert([{"id": "a", "values": [1, 0, 0], "metadata": {"v": 1}}])
    await index.insert([{"id": "a", "values": [0, 1, 0], "metadata": {"v": 2}}])
    (a,) = await index.getByIds(["a"])
    assert a.values == [1.0, 0.0, 0.0] and a.metadata == {"v": 1}
    await index.upsert([{"id": "a", "values": [0, 1, 0]}])
    (a,) = await index.getByIds(["a"])
    assert a.values == [0.0, 1.0, 0.0] and "metadata" not in a
    assert (await index.describe()).vectorCount == 1
    assert (await index.query([0, 1, 0], topK=1)).matches[0].id == "a"


async def test_delete_by_ids_and_describe(index: VectorizeIndexBinding) -> None:
    await index.upsert([{"id": str(i), "values": [i, 1, 0]} for i in range(5)])
    deleted = await index.deleteByIds(["1", "3", "nope"])
    info = await index.describe()
    assert info.vectorCount == 3 and info.dimensions == 3
    assert info.processedUpToMutation == deleted.mutationId
    ids = {m.id for m in (await index.query([1, 1, 0], topK=10)).matches}
    assert ids == {"0", "2", "4"}


async def test_query_by_id_uses_the_stored_vector(index: VectorizeIndexBinding) -> None:
    await index.upsert([{"id": "a", "values": [1, 0, 0]}, {"id": "b", "values": [0, 1, 0]}])
    result = await index.queryById("b", topK=1)
    assert result.matches[0].id == "b" and result.matches[0].score == pytest.approx(1.0)
    assert (await index.queryById("missing")).count == 0


async def test_metrics_scores(tmp_path: Path) -> None:
    """create-indexes.mdx, "Distance metrics": euclidean is the L2 distance (lower is
    closer); dot-product is the negative dot product (lower is closer)."""
    l2 = open_index(tmp_path, "l2", 2, "euclidean")
    dot = open_index(tmp_path, "dot", 2, "dot-product")
    try:
        for binding in (l2, dot):
            await binding.upsert(
                [{"id": "near", "values": [3, 4]}, {"id": "far", "values": [9, 9]}]
            )
        m = (await l2.query([0, 0], topK=2)).matches
        assert [x.id for x in m] == ["near", "far"] and m[0].score == pytest.approx(5.0)
        m = (await dot.query([1, 1], topK=2)).matches
        assert [x.id for x in m] == ["far", "near"] and m[0].score == pytest.approx(-18.0)
    finally:
        l2.close()
        dot.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"topK": 101}, "topK must be at most 100"),
        ({"topK": 21, "returnValues": True}, "at most 20"),
        ({"topK": 21, "returnMetadata": "all"}, "at most 20"),
        ({"topK": 0}, "positive integer"),
        ({"namespace": "n" * 65}, "longer than 64 bytes"),
        ({"filter": {}}, "non-empty object"),
    ],
)
async def test_query_limits(index: VectorizeIndexBinding, options: dict, message: str) -> None:
    with pytest.raises(VectorizeError, match="^VECTOR_QUERY_ERROR: .*" + message):
        await index.query([1, 0, 0], options)


async def test_top_k_100_is_allowed_with_indexed_metadata(index: VectorizeIndexBinding) -> None:
    result = await index.query([1, 0, 0], topK=100, returnMetadata="indexed")
    assert result.count == 0


async def test_return_metadata_levels(index: VectorizeIndexBinding) -> None:
    """workerd queryImplV2: booleans map to all/none; anything else is rejected in the
    isolate with this text."""
    assert (await index.query([1, 0, 0], returnMetadata=True)).count == 0
    with pytest.raises(VectorizeOptionError, match='Expected: true, false, "none"'):
        await index.query([1, 0, 0], returnMetadata="some")


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ({"id": "x" * 65, "values": [1, 0, 0]}, "longer than 64 bytes"),
        ({"id": "", "values": [1, 0, 0]}, "non-empty string"),
        ({"id": "a", "values": [1, 0]}, "has 2 dimensions, but the index expects 3"),
        ({"id": "a", "values": [1, float("nan"), 0]}, "not a finite"),
        ({"id": "a", "values": "123"}, "array of numbers"),
        ({"id": "a", "values": [1, 0, 0], "metadata": {"b": "x" * 10241}}, "10 KiB"),
        ({"id": "a", "values": [1, 0, 0], "metadata": [1]}, "object of key/value"),
        ({"id": "a"}, "has no values"),
    ],
)
async def test_vector_checks(index: VectorizeIndexBinding, vector: dict, message: str) -> None:
    with pytest.raises(VectorizeError, match="^VECTOR_UPSERT_ERROR: .*" + message):
        await index.upsert([vector])
    assert (await index.describe()).vectorCount == 0


async def test_a_batch_holds_at_most_1000_vectors(index: VectorizeIndexBinding) -> None:
    batch = [{"id": str(i), "values": [1, 0, 0]} for i in range(1001)]
    with pytest.raises(VectorizeError, match="at most 1000"):
        await index.insert(batch)
    await index.insert(batch[:1000])
    assert (await index.describe()).vectorCount == 1000


async def test_query_vector_with_wrong_dimensions(index: VectorizeIndexBinding) -> None:
    with pytest.raises(VectorizeError, match="query vector has 4 dimensions"):
        await index.query([1, 2, 3, 4])


async def test_a_deleted_index_errors_and_a_recreated_one_is_used(tmp_path: Path) -> None:
    binding = open_index(tmp_path, "gone", 2, "cosine")
    try:
        await binding.upsert([{"id": "a", "values": [1, 0]}])
        delete_index(tmp_path, "gone")
        with pytest.raises(VectorizeError, match='index "gone" does not exist locally'):
            await binding.query([1, 0])
        open_index(tmp_path, "gone", 2, "euclidean").close()
        assert (await binding.describe()).vectorCount == 0
    finally:
        binding.close()
