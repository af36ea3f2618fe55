"""``wranglerpy vectorize`` with wrangler's argument vocabulary
(cloudflare/workers-sdk ``packages/wrangler/src/vectorize/*.ts``)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def vz(*args: str):
    return runner.invoke(app, ["vectorize", *args])


def ndjson(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_create_list_get_info_delete(project: Path) -> None:
    assert vz("create", "docs", "--dimensions", "3", "--metric", "cosine").exit_code == 0
    made = vz("create", "small", "--preset", "@cf/baai/bge-small-en-v1.5", "--json")
    assert json.loads(made.stdout)["config"] == {"dimensions": 384, "metric": "cosine"}
    listed = json.loads(vz("list", "--json").stdout)
    assert [i["name"] for i in listed] == ["docs", "small"]
    got = json.loads(vz("get", "docs", "--json").stdout)
    assert got["config"] == {"dimensions": 3, "metric": "cosine"}
    assert json.loads(vz("info", "docs", "--json").stdout)["vectorCount"] == 0
    assert vz("delete", "docs", "-y").exit_code == 0
    missing = vz("get", "docs")
    assert missing.exit_code == 1 and 'index "docs" does not exist locally' in missing.stderr


def test_create_needs_dimensions_and_metric_or_a_preset(project: Path) -> None:
    result = vz("create", "x", "--dimensions", "3")
    assert result.exit_code == 2
    assert "both dimensions and a metric, or a known model preset" in result.stderr
    too_big = vz("create", "x", "--dimensions", "1537", "--metric", "cosine")
    assert too_big.exit_code == 2 and "1536" in too_big.stderr
    assert vz("create", "x", "--dimensions", "2", "--metric", "cosine").exit_code == 0
    again = vz("create", "x", "--dimensions", "2", "--metric", "cosine")
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_insert_upsert_query_and_vectors(project: Path) -> None:
    vz("create", "docs", "--dimensions", "3", "--metric", "euclidean")
    vz("create-metadata-index", "docs", "--property-name", "kind", "--type", "string")
    rows = [
        {"id": "a", "values": [1, 0, 0], "metadata": {"kind": "x"}},
        {"id": "b", "values": [0, 1, 0], "metadata": {"kind": "y"}, "namespace": "n"},
        {"id": "c", "values": [0, 0, 1]},
    ]
    done = vz("insert", "docs", "--file", str(ndjson(project / "v.ndjson", rows)), "--json")
    assert json.loads(done.stdout) == {"index": "docs", "count": 3}
    changed = ndjson(project / "u.ndjson", [{"id": "c", "values": [5, 5, 5]}])
    assert vz("upsert", "docs", "--file", str(changed), "--batch-size", "1").exit_code == 0
    result = vz(
        "query", "docs", "--vector", "1", "0.1", "0", "--top-k", "2", "--return-metadata", "all"
    )
    out = json.loads(result.stdout)
    assert [m["id"] for m in out["matches"]] == ["a", "b"]
    assert out["matches"][0]["metadata"] == {"kind": "x"}
    filtered = vz("query", "docs", "--vector-id", "a", "--filter", '{"kind": "y"}')
    assert [m["id"] for m in json.loads(filtered.stdout)["matches"]] == ["b"]
    got = json.loads(vz("get-vectors", "docs", "--ids", "c", "a").stdout)
    assert [v["id"] for v in got] == ["c", "a"] and got[0]["values"] == [5.0, 5.0, 5.0]
    assert vz("delete-vectors", "docs", "--ids", "a", "b").exit_code == 0
    page = json.loads(vz("list-vectors", "docs", "--json").stdout)
    assert page["vectors"] == [{"id": "c"}] and page["totalCount"] == 1


def test_query_needs_exactly_one_of_vector_and_vector_id(project: Path) -> None:
    vz("create", "docs", "--dimensions", "2", "--metric", "cosine")
    result = vz("query", "docs")
    assert result.exit_code == 2 and "Either vector or vector-id" in result.stderr


def test_a_bad_ndjson_line_is_named_and_earlier_batches_stay(project: Path) -> None:
    vz("create", "docs", "--dimensions", "2", "--metric", "cosine")
    path = project / "bad.ndjson"
    path.write_text('{"id": "a", "values": [1, 0]}\n{"id": "b", "values": [1, 0, 0]}\n')
    result = vz("insert", "docs", "--file", str(path), "--batch-size", "1")
    assert result.exit_code == 2
    assert "bad.ndjson:2" in result.stderr and "2 dimensions" in result.stderr
    assert json.loads(vz("info", "docs", "--json").stdout)["vectorCount"] == 1
    empty = project / "empty.ndjson"
    empty.write_text("")
    assert "Cannot read invalid or empty file" in vz("insert", "docs", "--file", str(empty)).stderr
    too_big = vz("insert", "docs", "--file", str(path), "--batch-size", "5001")
    assert too_big.exit_code == 2 and "5000" in too_big.stderr


def test_metadata_index_commands(project: Path) -> None:
    vz("create", "docs", "--dimensions", "2", "--metric", "cosine")
    assert (
        vz("create-metadata-index", "docs", "--propertyName", "a.b", "--type", "number").exit_code
        == 0
    )
    dup = vz("create-metadata-index", "docs", "--property-name", "a.b", "--type", "string")
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    for i in range(9):
        vz("create-metadata-index", "docs", "--property-name", f"p{i}", "--type", "string")
    over = vz("create-metadata-index", "docs", "--property-name", "p9", "--type", "string")
    assert over.exit_code == 1 and "10 metadata indexes" in over.stderr
    listed = json.loads(vz("list-metadata-index", "docs", "--json").stdout)
    assert listed[0] == {"propertyName": "a.b", "indexType": "number"} and len(listed) == 10
    assert vz("delete-metadata-index", "docs", "--property-name", "a.b").exit_code == 0
    assert len(json.loads(vz("list-metadata-index", "docs", "--json").stdout)) == 9
    bad = vz("create-metadata-index", "docs", "--property-name", "$x", "--type", "string")
    assert bad.exit_code == 2 and 'starts with "$"' in bad.stderr
