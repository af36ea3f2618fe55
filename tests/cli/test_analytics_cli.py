import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.analytics_engine import AnalyticsEngineBinding, dataset_path
from wranglerpy.cli import tables
from wranglerpy.cli.main import app

runner = CliRunner()

CONFIG = """
name = "aetest"
main = "src/entry.py"

[[analytics_engine_datasets]]
binding = "HITS"
dataset = "hits_prod"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    ae = AnalyticsEngineBinding(dataset_path(tmp_path / ".wranglerpy" / "state", "hits_prod"))
    for route, ms in (("/a", 10), ("/a", 30), ("/[b]", 5)):
        ae.writeDataPoint({"blobs": [route], "doubles": [ms]})
    ae.close()
    return tmp_path


def query(*args: str):
    return runner.invoke(app, ["analytics", "query", *args])


def test_json_output_has_the_sql_api_shape(project: Path) -> None:
    result = query(
        "SELECT blob1, count() AS n, sum(double1) AS ms FROM hits_prod "
        "WHERE timestamp > NOW() - INTERVAL '1' DAY GROUP BY blob1 ORDER BY blob1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "meta": [
            {"name": "blob1", "type": "String"},
            {"name": "n", "type": "UInt64"},
            {"name": "ms", "type": "Float64"},
        ],
        "data": [{"blob1": "/[b]", "n": "1", "ms": 5.0}, {"blob1": "/a", "n": "2", "ms": 40.0}],
        "rows": 2,
        "rows_before_limit_at_least": 2,
    }


def test_table_output_prints_values_literally(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "is_terminal", lambda: True)
    result = query("SELECT blob1, count() FROM hits_prod GROUP BY blob1 ORDER BY blob1")
    assert result.exit_code == 0, result.output
    assert "/[b]" in result.output and "count()" in result.output
    assert result.output.rstrip().endswith("2 rows")
    limited = query("SELECT blob1 FROM hits_prod LIMIT 1")
    assert "1 row (of 3 before LIMIT)" in limited.output


def test_piped_output_is_json_not_a_cut_table(project: Path) -> None:
    result = query("SELECT blob1, count() FROM hits_prod GROUP BY blob1 ORDER BY blob1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 2


def test_format_clauses(project: Path) -> None:
    each = query("SELECT double1 FROM hits_prod ORDER BY double1 FORMAT JSONEachRow")
    assert [json.loads(line) for line in each.output.splitlines()] == [
        {"double1": 5.0},
        {"double1": 10.0},
        {"double1": 30.0},
    ]
    whole = query("SELECT count() c FROM hits_prod FORMAT JSON")
    assert json.loads(whole.output)["data"] == [{"c": "3"}]


def test_from_may_name_the_binding_or_use_dataset_option(project: Path) -> None:
    by_binding = query("SELECT count() c FROM HITS", "--json")
    assert json.loads(by_binding.output)["data"] == [{"c": "3"}]
    by_option = query("SELECT count() c FROM production_name", "--dataset", "hits_prod", "--json")
    assert json.loads(by_option.output)["data"] == [{"c": "3"}]


def test_from_may_name_a_binding_of_another_config_in_the_folder(project: Path) -> None:
    (project / "wrangler-other.toml").write_text(
        'name = "other"\nmain = "o.py"\n\n[[analytics_engine_datasets]]\n'
        'binding = "OTHER_HITS"\ndataset = "hits_prod"\n'
    )
    (project / "wrangler-broken.toml").write_text("this is not toml [")
    result = query("SELECT count() c FROM OTHER_HITS", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["data"] == [{"c": "3"}]


def test_errors_are_one_clear_line(project: Path) -> None:
    unknown = query("SELECT count() FROM nope")
    assert unknown.exit_code == 2
    assert 'No local Analytics Engine dataset "nope"' in unknown.output
    assert "datasets with data: hits_prod" in unknown.output
    unsupported = query("SELECT blob1 FROM hits_prod a JOIN b")
    assert unsupported.exit_code == 2 and "Unsupported SQL" in unsupported.output
    assert "Traceback" not in unsupported.output


def test_persist_to(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-state"
    ae = AnalyticsEngineBinding(dataset_path(other, "x"))
    ae.writeDataPoint({"blobs": ["only here"]})
    ae.close()
    result = query("SELECT blob1 FROM x", "--persist-to", str(other), "--json")
    assert json.loads(result.output)["data"] == [{"blob1": "only here"}]
