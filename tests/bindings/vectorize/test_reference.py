"""Filters and metrics against a brute-force reference written from Cloudflare's rules
(cloudflare-docs ``src/content/docs/vectorize/reference/metadata-filtering.mdx`` "Supported
operations"; ``best-practices/create-indexes.mdx`` "Distance metrics"), independent of the
implementation: every query's ids, order and scores must match a full float64 scan.

The dataset is written in two halves with a metadata index created in between, so the rule
"vectors upserted before a metadata index was created won't have their metadata contained in
that index" is part of every comparison.
"""

import asyncio
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bindings.vectorize.conftest import open_index
from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
from wranglerpy.bindings.vectorize.store import IndexStore

DIMS = 6
COUNT = 240
COLORS = ["red", "green", "blue", "ré" * 40]  # the last one is longer than 64 bytes
# property -> type; "late" gets its index only after the first half is written.
EARLY = {"color": "string", "n": "number", "flag": "boolean", "a.b": "number"}
LATE = {"late": "string"}
METRICS = ("cosine", "euclidean", "dot-product")


def make_dataset(seed: int = 7) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(COUNT):
        meta: dict[str, Any] = {}
        if rng.random() < 0.8:
            meta["color"] = COLORS[int(rng.integers(len(COLORS)))] if rng.random() < 0.9 else 3
        if rng.random() < 0.8:
            meta["n"] = (
                int(rng.integers(-3, 4)) if rng.random() < 0.5 else float(rng.integers(0, 6)) / 2
            )
        if rng.random() < 0.7:
            meta["flag"] = bool(rng.random() < 0.5)
        if rng.random() < 0.6:
            meta["a"] = {"b": int(rng.integers(0, 4))}
        if rng.random() < 0.7:
            meta["late"] = COLORS[int(rng.integers(3))]
        out.append(
            {
                "id": f"v{i}",
                "values": rng.normal(size=DIMS).round(3).tolist(),
                "namespace": ["x", "y", None][i % 3],
                "metadata": meta,
            }
        )
    return out


DATA = make_dataset()


def at(meta: dict[str, Any], path: str) -> Any:
    node: Any = meta
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def index_value(value: Any, kind: str) -> Any:
    """What an index of ``kind`` records (None: nothing), per metadata-filtering.mdx."""
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "number":
        return (
            float(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else None
        )
    if kind == "string" and isinstance(value, str):
        return value.encode()[:64].decode("utf-8", "ignore")
    return None


def recorded(position: int, vector: dict[str, Any]) -> dict[str, Any]:
    kinds = dict(EARLY)
    if position >= COUNT // 2:
        kinds.update(LATE)
    out = {}
    for prop, kind in kinds.items():
        value = index_value(at(vector["metadata"], prop), kind)
        if value is not None:
            out[prop] = (kind, value)
    return out


def same(kind_value: tuple[str, Any] | None, target: Any) -> bool:
    if target is None:
        return kind_value is None
    if kind_value is None:
        return False
    kind, value = kind_value
    return index_value(target, kind) is not None and index_value(target, kind) == value


def passes(rec: dict[str, Any], flt: dict[str, Any]) -> bool:
    for key, spec in flt.items():
        have = rec.get(key)
        if not isinstance(spec, dict):
            spec = {"$eq": spec}
        for op, target in spec.items():
            if op == "$eq" and not same(have, target):
                return False
            if op == "$ne" and same(have, target):
                return False
            if op == "$in" and not any(same(have, t) for t in target):
                return False
            if op == "$nin" and any(same(have, t) for t in target):
                return False
            if op in ("$lt", "$lte", "$gt", "$gte"):
                if have is None or have[0] not in ("string", "number"):
                    return False
                bound = index_value(target, have[0])
                if bound is None:
                    return False
                value = have[1]
                ok = {
                    "$lt": value < bound,
                    "$lte": value <= bound,
                    "$gt": value > bound,
                    "$gte": value >= bound,
                }[op]
                if not ok:
                    return False
    return True


def reference(
    metric: str, query: list[float], top_k: int, namespace: str | None, flt: dict[str, Any]
) -> list[tuple[str, float]]:
    q = np.asarray(query, dtype=np.float32).astype(np.float64)
    scored = []
    for position, vector in enumerate(DATA):
        if namespace is not None and vector["namespace"] != namespace:
            continue
        if flt and not passes(recorded(position, vector), flt):
            continue
        v = np.asarray(vector["values"], dtype=np.float32).astype(np.float64)
        if metric == "cosine":
            score = float(v @ q) / float(np.linalg.norm(v) * np.linalg.norm(q))
            rank = -score
        elif metric == "euclidean":
            score = rank = float(np.linalg.norm(v - q))
        else:
            score = rank = -float(v @ q)
        scored.append((rank, position, vector["id"], score))
    scored.sort()
    return [(vector_id, score) for _, _, vector_id, score in scored[:top_k]]


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, VectorizeIndexBinding]:
    persist: Path = tmp_path_factory.mktemp("persist")
    out = {}
    for metric in METRICS:
        binding = open_index(persist, metric, DIMS, metric)
        store = IndexStore(binding._path)
        for prop, kind in EARLY.items():
            store.create_metadata_index(prop, kind)
        asyncio.run(binding.upsert(DATA[: COUNT // 2]))
        store.create_metadata_index("late", "string")
        store.close()
        asyncio.run(binding.upsert(DATA[COUNT // 2 :]))
        out[metric] = binding
    yield out
    for binding in out.values():
        binding.close()


scalars = st.one_of(
    st.sampled_from(COLORS + ["nope"]),
    st.integers(-3, 4),
    st.sampled_from([0.5, 1.5, 2.5]),
    st.booleans(),
    st.none(),
)
bounds = st.one_of(
    st.integers(-4, 5), st.sampled_from([0.5, 1.5]), st.sampled_from(COLORS + ["m", "s"])
)


@st.composite
def clause(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["bare", "$eq", "$ne", "$in", "$nin", "range"]))
    if kind == "bare":
        return draw(scalars)
    if kind in ("$eq", "$ne"):
        return {kind: draw(scalars)}
    if kind in ("$in", "$nin"):
        return {kind: draw(st.lists(scalars, max_size=4))}
    spec = {}
    if draw(st.booleans()):
        spec[draw(st.sampled_from(["$lt", "$lte"]))] = draw(bounds)
    if draw(st.booleans()) or not spec:
        spec[draw(st.sampled_from(["$gt", "$gte"]))] = draw(bounds)
    if len({isinstance(v, str) for v in spec.values()}) > 1:
        spec.popitem()  # Cloudflare compares both bounds of one kind
    return spec


filters = st.dictionaries(
    st.sampled_from(["color", "n", "flag", "a.b", "late", "unindexed"]), clause(), max_size=3
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    metric=st.sampled_from(METRICS),
    query=st.lists(
        st.floats(-2, 2, width=32).filter(lambda x: abs(x) > 1e-3), min_size=DIMS, max_size=DIMS
    ),
    top_k=st.integers(1, 20),
    namespace=st.sampled_from([None, "x", "y"]),
    flt=filters,
)
def test_queries_match_the_brute_force_reference(
    indexes: dict[str, VectorizeIndexBinding],
    metric: str,
    query: list[float],
    top_k: int,
    namespace: str | None,
    flt: dict[str, Any],
) -> None:
    options: dict[str, Any] = {"topK": top_k}
    if namespace is not None:
        options["namespace"] = namespace
    if flt:
        options["filter"] = flt
    got = asyncio.run(indexes[metric].query(query, options))
    want = reference(metric, query, top_k, namespace, flt)
    assert [m.id for m in got.matches] == [vector_id for vector_id, _ in want]
    for match, (_, score) in zip(got.matches, want, strict=True):
        assert math.isclose(match.score, score, rel_tol=1e-9, abs_tol=1e-9)


def test_indexed_metadata_is_what_the_filter_sees(
    indexes: dict[str, VectorizeIndexBinding],
) -> None:
    """returnMetadata="indexed" returns the indexed fields only, strings cut to 64 bytes."""
    long_color = COLORS[3]
    position = next(i for i, v in enumerate(DATA) if v["metadata"].get("color") == long_color)
    result = asyncio.run(
        indexes["cosine"].queryById(DATA[position]["id"], topK=1, returnMetadata="indexed")
    )
    metadata = result.matches[0].metadata
    assert metadata["color"] == long_color.encode()[:64].decode("utf-8", "ignore")
    assert set(metadata) == set(recorded(position, DATA[position]))


SINGLE_VALUES = [*COLORS, "m", -3, -1, 0, 0.5, 1, 2, 2.5, 3, True, False, None]


@pytest.mark.parametrize("prop", ["color", "n", "flag", "a.b", "late", "unindexed"])
def test_every_operator_on_every_property(
    indexes: dict[str, VectorizeIndexBinding], prop: str
) -> None:
    """Each operator alone, with every boundary value, over whole namespaces (each holds 80
    vectors, under topK's cap of 100), so every vector's membership is checked."""
    specs: list[Any] = []
    for value in SINGLE_VALUES:
        specs += [value, {"$eq": value}, {"$ne": value}, {"$in": [value, "red"]}, {"$nin": [value]}]
        if value is not None and not isinstance(value, bool):
            specs += [{op: value} for op in ("$lt", "$lte", "$gt", "$gte")]
    binding = indexes["euclidean"]
    query = [0.1] * DIMS
    for spec in specs:
        for namespace in ("x", "y"):
            flt = {prop: spec}
            got = asyncio.run(binding.query(query, topK=100, namespace=namespace, filter=flt))
            want = reference("euclidean", query, 100, namespace, flt)
            assert [m.id for m in got.matches] == [i for i, _ in want], flt
