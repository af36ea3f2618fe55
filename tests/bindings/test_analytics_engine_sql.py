from pathlib import Path

import pytest

from wranglerpy.bindings.analytics_engine import AnalyticsEngineBinding
from wranglerpy.bindings.analytics_engine.sql import QueryError, run_query
from wranglerpy.bindings.analytics_engine.sql.parser import parse
from wranglerpy.errors import UsageError

# 2027-01-15 10:00:00 UTC
NOW = 1_800_000_000.0 - 1_800_000_000.0 % 86400 + 10 * 3600
HOUR = 3600.0


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ae") / "points.sqlite"
    clock = {"now": 0.0}
    ae = AnalyticsEngineBinding(path, dataset="hits", clock=lambda: clock["now"])
    points = [
        # (hours ago, path, status, latency, bytes)
        (0.5, "/a", "200", 10.0, 100),
        (1.5, "/a", "200", 30.0, 300),
        (2.5, "/b", "404", 5.0, 0),
        (3.5, "/a", "500", 100.0, 50),
        (30.0, "/b", "200", 20.0, 200),  # more than a day ago
        (0.1, "/c%_", "200", 7.0, 70),
    ]
    for ago, route, status, latency, size in points:
        clock["now"] = NOW - ago * HOUR
        ae.writeDataPoint(
            {"blobs": [route, status], "doubles": [latency, size], "indexes": [route[:2]]}
        )
    ae.close()
    return path


def q(store: Path, sql: str):
    return run_query(sql, lambda table: (store, table), now=NOW)


def data(store: Path, sql: str) -> list[dict]:
    return q(store, sql).to_json()["data"]


def test_the_issue_query(store: Path) -> None:
    result = q(
        store,
        "SELECT blob1, count() FROM hits WHERE timestamp > NOW() - INTERVAL '1' DAY "
        "GROUP BY blob1 ORDER BY blob1",
    )
    assert result.to_json() == {
        "meta": [{"name": "blob1", "type": "String"}, {"name": "count()", "type": "UInt64"}],
        "data": [
            {"blob1": "/a", "count()": "3"},
            {"blob1": "/b", "count()": "1"},
            {"blob1": "/c%_", "count()": "1"},
        ],
        "rows": 3,
        "rows_before_limit_at_least": 3,
    }


def test_aggregates_and_aliases(store: Path) -> None:
    rows = data(
        store,
        "SELECT blob1 AS path, count() AS n, sum(double1) AS total, avg(double1) avg_latency, "
        "min(double1), max(double2), sum(_sample_interval) AS weight FROM hits "
        "GROUP BY path ORDER BY n DESC, path",
    )
    assert rows[0] == {
        "path": "/a",
        "n": "3",
        "total": 140.0,
        "avg_latency": pytest.approx(140 / 3),
        "min(double1)": 10.0,
        "max(double2)": 300.0,
        "weight": "3",
    }
    assert [r["path"] for r in rows] == ["/a", "/b", "/c%_"]


def test_group_and_order_by_ordinal_and_expression(store: Path) -> None:
    by_ordinal = data(store, "SELECT blob2, count() FROM hits GROUP BY 1 ORDER BY 2 DESC, 1")
    assert by_ordinal == [
        {"blob2": "200", "count()": "4"},
        {"blob2": "404", "count()": "1"},
        {"blob2": "500", "count()": "1"},
    ]
    by_expr = data(
        store,
        "SELECT intDiv(double1, 10) * 10 AS bucket, count() AS n FROM hits "
        "GROUP BY intDiv(double1, 10) * 10 ORDER BY bucket",
    )
    assert by_expr == [
        {"bucket": "0", "n": "2"},
        {"bucket": "10", "n": "1"},
        {"bucket": "20", "n": "1"},
        {"bucket": "30", "n": "1"},
        {"bucket": "100", "n": "1"},
    ]


def test_where_operators(store: Path) -> None:
    def paths(where: str) -> list[str]:
        return [
            r["double1"]
            for r in data(store, f"SELECT double1 FROM hits WHERE {where} ORDER BY double1")
        ]

    assert paths("blob2 = '200' AND double1 >= 10") == [10.0, 20.0, 30.0]
    assert paths("blob2 != '200' OR double1 < 8") == [5.0, 7.0, 100.0]
    assert paths("NOT (blob2 == '200')") == [5.0, 100.0]
    assert paths("blob2 <> '200'") == [5.0, 100.0]
    assert paths("blob2 IN ('404', '500')") == [5.0, 100.0]
    assert paths("blob2 NOT IN ('200')") == [5.0, 100.0]
    assert paths("double1 IN (5, 7)") == [5.0, 7.0]
    assert paths("double1 * 2 + 1 > 60 - 1") == [30.0, 100.0]
    assert paths("double1 / 4 = 2.5") == [10.0]
    assert paths("double1 % 3 = 1") == [7.0, 10.0, 100.0]
    assert paths("double1 BETWEEN 7 AND 20") == [7.0, 10.0, 20.0]
    assert paths("-double1 < -50") == [100.0]
    assert paths("index1 = '/b'") == [5.0, 20.0]


def test_like_is_case_sensitive_with_escapes(store: Path) -> None:
    def paths(where: str) -> list[str]:
        return [
            r["blob1"]
            for r in data(
                store, f"SELECT blob1 FROM hits WHERE {where} GROUP BY blob1 ORDER BY blob1"
            )
        ]

    assert paths("blob1 LIKE '/%'") == ["/a", "/b", "/c%_"]
    assert paths("blob1 LIKE '/_'") == ["/a", "/b"]
    assert paths("blob1 LIKE '/A'") == []
    assert paths("blob1 LIKE '%\\\\%\\\\_'") == ["/c%_"]
    assert paths("blob1 NOT LIKE '%a'") == ["/b", "/c%_"]


def test_time_filters_and_buckets(store: Path) -> None:
    recent = data(
        store, "SELECT count() AS n FROM hits WHERE timestamp > NOW() - INTERVAL '2' HOUR"
    )
    assert recent == [{"n": "3"}]
    assert (
        data(store, "SELECT count() AS n FROM hits WHERE timestamp >= now() - INTERVAL 90 MINUTE")[
            0
        ]["n"]
        == "3"
    )
    assert data(store, "SELECT count() n FROM hits WHERE timestamp < NOW() - INTERVAL '1 DAY'") == [
        {"n": "1"}
    ]
    assert (
        data(store, "SELECT count() n FROM hits WHERE timestamp > '2027-01-15 08:00:00'")[0]["n"]
        == "3"
    )
    assert (
        data(store, "SELECT count() n FROM hits WHERE '2027-01-15 08:00:00' < timestamp")[0]["n"]
        == "3"
    )
    assert (
        data(store, "SELECT count() n FROM hits WHERE timestamp > toDateTime('2027-01-15')")[0]["n"]
        == "5"
    )
    buckets = data(
        store,
        "SELECT toStartOfInterval(timestamp, INTERVAL '1' HOUR) AS hour, count() AS n FROM hits "
        "WHERE timestamp > NOW() - INTERVAL '1' DAY GROUP BY hour ORDER BY hour",
    )
    assert buckets == [
        {"hour": "2027-01-15 06:00:00", "n": "1"},
        {"hour": "2027-01-15 07:00:00", "n": "1"},
        {"hour": "2027-01-15 08:00:00", "n": "1"},
        {"hour": "2027-01-15 09:00:00", "n": "2"},
    ]
    week = data(
        store, "SELECT toStartOfInterval(timestamp, INTERVAL 1 WEEK) w FROM hits GROUP BY w"
    )
    assert week == [{"w": "2027-01-11 00:00:00"}]  # a Monday
    stamp = data(store, "SELECT toUnixTimestamp(timestamp) t FROM hits WHERE double1 = 10")
    assert stamp == [{"t": int(NOW - 0.5 * HOUR)}]


def test_day_buckets(store: Path) -> None:
    day = data(
        store,
        "SELECT toStartOfInterval(timestamp, INTERVAL 1 DAY) d, count() c FROM hits GROUP BY d ORDER BY d",
    )
    assert day == [{"d": "2027-01-14 00:00:00", "c": "1"}, {"d": "2027-01-15 00:00:00", "c": "5"}]


def test_quantile_weighted_and_int_div(store: Path) -> None:
    result = data(
        store,
        "SELECT quantileWeighted(0.5, double1, _sample_interval) AS p50, "
        "quantileWeighted(1, double1, _sample_interval) AS p100, "
        "quantileWeighted(0.25, double1, double2) AS weighted FROM hits",
    )
    # sorted latencies 5,7,10,20,30,100 -> the 3rd of 6 is the median
    # weights 70, 100, 200... for 7, 10, 20...: 25% of 720 is reached at 20
    assert result == [{"p50": 10.0, "p100": 100.0, "weighted": 20.0}]
    same = data(
        store,
        "SELECT quantileWeighted(0.25)(double1, double2) AS a, "
        "quantileWeighted(double1, _sample_interval) AS median FROM hits",
    )
    assert same == [{"a": 20.0, "median": 10.0}]
    assert data(store, "SELECT intDiv(double1, 3) x FROM hits WHERE double1 = 100") == [{"x": "33"}]
    assert data(store, "SELECT intDiv(-7, 2) x FROM hits LIMIT 1") == [{"x": "-3"}]
    with pytest.raises(QueryError, match="Division by zero in intDiv"):
        q(store, "SELECT intDiv(double1, 0) FROM hits")


def test_empty_aggregates_follow_clickhouse(store: Path) -> None:
    assert data(
        store,
        "SELECT count() c, sum(double1) s, min(blob1) m, avg(double1) a FROM hits WHERE double1 > 1000",
    ) == [{"c": "0", "s": 0.0, "m": "", "a": None}]


def test_limit_offset_and_rows_before_limit(store: Path) -> None:
    result = q(store, "SELECT double1 FROM hits ORDER BY double1 LIMIT 2 OFFSET 1").to_json()
    assert result["data"] == [{"double1": 7.0}, {"double1": 10.0}]
    assert result["rows"] == 2 and result["rows_before_limit_at_least"] == 6
    assert data(store, "SELECT double1 FROM hits ORDER BY double1 DESC LIMIT 1, 2") == [
        {"double1": 30.0},
        {"double1": 20.0},
    ]


def test_having_select_star_dataset_and_format(store: Path) -> None:
    assert data(store, "SELECT blob1, count() AS n FROM hits GROUP BY blob1 HAVING n > 2") == [
        {"blob1": "/a", "n": "3"}
    ]
    star = q(store, "SELECT * FROM hits WHERE double1 = 10 FORMAT JSON;")
    assert star.format == "JSON"
    row = star.to_json()["data"][0]
    assert row["dataset"] == "hits" and row["blob1"] == "/a" and row["double2"] == 100.0
    assert row["_sample_interval"] == 1 and row["blob20"] == "" and row["index1"] == "/a"
    assert [m["name"] for m in star.meta][:4] == [
        "dataset",
        "timestamp",
        "_sample_interval",
        "index1",
    ]
    assert q(store, "select blob1 from hits limit 1 format JSONEachRow").format == "JSONEachRow"


def test_comments_quotes_and_case(store: Path) -> None:
    rows = data(
        store,
        'select `blob1` as "p", COUNT(*) as n -- a comment\nfrom `hits` /* block */ '
        "where blob1 = 'it''s' or blob1 = '/b' group by p",
    )
    assert rows == [{"p": "/b", "n": "2"}]


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT blob1 FROM a JOIN b ON 1", "Unsupported SQL: JOIN"),
        ("SELECT blob1 FROM hits UNION ALL SELECT blob1 FROM hits", "Unsupported SQL: UNION"),
        ("SELECT blob1 FROM (SELECT * FROM hits)", "subqueries in FROM"),
        ("SELECT blob1 FROM hits WHERE blob1 IN (SELECT blob1 FROM hits)", "subqueries in IN"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("SELECT DISTINCT blob1 FROM hits", "SELECT DISTINCT"),
        ("SELECT count(DISTINCT blob1) FROM hits", r"count\(DISTINCT"),
        ("SELECT CASE WHEN 1 THEN 2 END FROM hits", "Unsupported SQL: CASE"),
        ("SELECT blob1 FROM hits WHERE blob1 IS NULL", "IS \\[NOT\\] NULL"),
        ("SELECT quantile(0.5)(double1) FROM hits", "parametric aggregate"),
        ("SELECT quantileWeighted(0.5, 1)(double1, 1) FROM hits", "parametric aggregate"),
        ("SELECT uniq(blob1) FROM hits", r"Unsupported function uniq\(\)"),
        ("SELECT blob1 FROM hits h", "table aliases"),
        ("SELECT blob1 FROM db.hits", "database-qualified"),
        ("SHOW TABLES", "SHOW statements"),
        ("SELECT blob1 FROM hits FORMAT CSV", "Unsupported FORMAT CSV"),
        (
            "SELECT toStartOfInterval(timestamp, INTERVAL 1 MONTH) FROM hits",
            "MONTH is not supported",
        ),
        ("SELECT blob1 FROM hits ORDER BY blob1 NULLS FIRST", "NULLS"),
        ("SELECT blob1 FROM hits LIMIT 1 BY blob1", "LIMIT ... BY"),
        ("SELECT row_number() OVER () FROM hits", "window functions"),
        ("SELECT blob1 || blob2 FROM hits", r"the \|\| operator"),
    ],
)
def test_unsupported_sql_is_refused_by_name(store: Path, sql: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as info:
        q(store, sql)
    assert isinstance(info.value, UsageError)


@pytest.mark.parametrize(
    "sql, message",
    [
        (
            "SELECT blob1, count() FROM hits",
            "Column blob1 is not under an aggregate function and not in GROUP BY",
        ),
        ("SELECT blob2 FROM hits GROUP BY blob1", "Column blob2 is not under an aggregate"),
        ("SELECT blob1 FROM hits GROUP BY blob1 ORDER BY double1", "Column double1 is not under"),
        ("SELECT sum(count()) FROM hits", "inside another aggregate"),
        ("SELECT blob1 FROM hits WHERE count() > 1", "not allowed in WHERE"),
        ("SELECT count() FROM hits GROUP BY count()", "not allowed in GROUP BY"),
        ("SELECT blob1 FROM hits WHERE blob1 = 1", "Cannot compare String with UInt8"),
        ("SELECT blob1 + 1 FROM hits", "Illegal type String of blob1 for \\+"),
        ("SELECT sum(blob1) FROM hits", "Illegal type String of blob1 for sum"),
        ("SELECT blob99 FROM hits", "Unknown column or alias 'blob99'"),
        (
            "SELECT blob1 FROM hits WHERE timestamp > 'yesterday'",
            "Cannot parse 'yesterday' as a DateTime",
        ),
        ("SELECT double1 + INTERVAL 1 DAY FROM hits", "INTERVAL can only be added"),
        ("SELECT blob1 FROM hits WHERE blob1", "WHERE needs a condition"),
        ("SELECT blob1 FROM hits GROUP BY 3", "GROUP BY position 3 is out of range"),
        ("SELECT blob1, blob1 FROM hits", "Duplicate output column 'blob1'"),
        ("SELECT quantileWeighted(2, double1, 1) FROM hits", "level of quantileWeighted"),
        ("SELECT count(1, 2) FROM hits", "takes 1 argument"),
        ("SELECT blob1 FROM hits WHERE", "Expected an expression at line 1, column 29"),
        ("SELECT blob1 FROM hits WHERE blob1 = 'open", "Unterminated string"),
        ("SELECT blob1 FROM hits WHERE blob1 = #", "Unexpected character '#'"),
        ("SELECT blob1 FROM hits LIMIT -1", "Expected a non-negative integer"),
        (
            "SELECT blob1 FROM hits WHERE timestamp > NOW() - INTERVAL 1 FORTNIGHT",
            "Unknown INTERVAL unit",
        ),
        ("SELECT blob1 FROM hits extra words", "Unexpected text after the query|table aliases"),
    ],
)
def test_bad_queries_get_clear_errors(store: Path, sql: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        q(store, sql)


def test_user_text_never_becomes_sql(store: Path) -> None:
    # A hostile literal is just a value; the table is untouched.
    rows = data(store, "SELECT count() n FROM hits WHERE blob1 = '''; DROP TABLE points; --'")
    assert rows == [{"n": "0"}]
    assert data(store, "SELECT count() n FROM hits") == [{"n": "6"}]
    sql = 'SELECT blob1 AS "x; DROP TABLE points" FROM hits LIMIT 1'
    assert list(data(store, sql)[0]) == ["x; DROP TABLE points"]


def test_parse_gives_a_tree() -> None:
    tree = parse("SELECT blob1 FROM hits WHERE double1 > 1 LIMIT 5")
    assert tree.table == "hits" and tree.limit == 5 and tree.where is not None


def test_deeply_nested_queries_are_refused_in_one_line() -> None:
    """Issue 18, finding 13: 150 nested parentheses raised RecursionError."""
    query = "SELECT " + "(" * 150 + "1" + ")" * 150 + " FROM hits"
    with pytest.raises(QueryError, match=r"Maximum parse depth \(64\) exceeded"):
        parse(query)
    assert parse("SELECT " + "(" * 60 + "1" + ")" * 60 + " FROM hits")
    unary = "SELECT " + "NOT " * 5000 + "1 FROM hits"
    with pytest.raises(QueryError):
        parse(unary)
