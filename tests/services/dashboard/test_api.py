"""The dashboard's JSON and SSE endpoints over HTTP, against a real services process: the page
and its files, live events from the tail server, hostile keys, pagination, the read-only SQL
console's refusals, and the checks that keep other web pages out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.services.dashboard.conftest import HOSTILE, KEYS, Dashboard

pytestmark = pytest.mark.timeout(120)  # a stream that never delivers fails, not hangs


def sse(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """``(event, data, id)`` for each Server-Sent Event of a streaming response."""
    kind, data, ident = "message", "", None
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if data:
                yield kind, json.loads(data), ident
            kind, data, ident = "message", "", None
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data += line[6:]
        elif line.startswith("id: "):
            ident = line[4:]


def next_event(
    events: Iterator[tuple[str, dict[str, Any], str | None]], path: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """The next ``event`` (with ``path``, when given); fails if the stream ends first."""
    for kind, data, ident in events:
        if kind == "event" and (path is None or data.get("path") == path):
            return data, ident
    raise AssertionError("the stream ended first")


def request_event(path: str, trace: str = "a" * 32, **extra: Any) -> dict[str, Any]:
    return {
        "type": "request",
        "worker": "api",
        "trace": trace,
        "span": "b" * 16,
        "parent_span": None,
        "start_ns": 1_700_000_000_000_000_000,
        "duration_ms": 1.5,
        "method": "GET",
        "url": f"http://127.0.0.1:8787{path}",
        "path": path,
        "status": 200,
        "outcome": "ok",
        "logs": [{"level": "log", "message": "<script>alert(1)</script>"}],
        "exceptions": [],
        **extra,
    }


# ----------------------------------------------------------------------- page and files
def test_the_page_and_its_files_are_served_with_a_strict_policy(dashboard: Dashboard) -> None:
    page = dashboard.get("")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'src="static/app.js"' in page.text
    for name in ("app.js", "dom.js", "views.js", "style.css"):
        assert dashboard.get(f"static/{name}").status_code == 200, name
    # Nothing is loaded from elsewhere (works offline, no CDN).
    for name in ("index.html", "app.js", "dom.js", "views.js", "style.css"):
        text = dashboard.get("" if name == "index.html" else f"static/{name}").text
        assert "https://" not in text and "http://" not in text, name


def test_no_file_outside_the_static_folder_is_served(dashboard: Dashboard) -> None:
    for path in ("static/../app.py", "static/%2e%2e/app.py", "static/nope.js", "app.py"):
        assert dashboard.get(path).status_code == 404, path


def test_a_browser_opening_the_bare_address_is_led_to_the_dashboard(dashboard: Dashboard) -> None:
    root = f"http://127.0.0.1:{dashboard.handle.port}/"
    found = httpx.get(root, headers={"accept": "text/html"})
    assert found.status_code == 302 and found.headers["location"] == "/_dashboard/"
    # An S3 client's ListBuckets (signed) still reaches the S3 API.
    s3 = httpx.get(root, headers={"authorization": "AWS4-HMAC-SHA256 Credential=x"})
    assert s3.status_code in (400, 403) and s3.text.startswith("<?xml")


def test_another_host_name_is_refused(dashboard: Dashboard) -> None:
    """A page on another site that rebinds its DNS name to 127.0.0.1 cannot read the state."""
    answer = dashboard.client.get("api/overview", headers={"host": "evil.example:8990"})
    assert answer.status_code == 403
    assert dashboard.client.get("api/overview", headers={"host": "localhost:1"}).status_code == 200


def test_unknown_api_paths_and_methods(dashboard: Dashboard) -> None:
    assert dashboard.get("api/nope").status_code == 404
    assert dashboard.client.delete("api/kv").status_code == 405
    assert "missing" in dashboard.get("api/kv/keys").json()["error"]


# --------------------------------------------------------------------------- workers
def test_overview_lists_the_workers_with_their_bindings(dashboard: Dashboard) -> None:
    overview = dashboard.get("api/overview").json()
    (api,) = overview["workers"]
    assert api["name"] == "api" and not api["running"]
    assert {"binding": "DB", "kind": "D1 Database", "target": "main"} in api["bindings"]


# ---------------------------------------------------------------------------- events
def test_a_published_request_reaches_the_stream_and_the_kept_events(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.base, timeout=30) as client:
        with client.stream("GET", "api/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse(response)
            kind, hello, _ = next(events)
            assert kind == "hello"
            dashboard.publish(request_event("/live-one"))
            data, ident = next_event(events, "/live-one")
            assert data["worker"] == "api" and data["trace"] == "a" * 32
            assert ident == str(data["seq"])
            seq = data["seq"]
    kept = dashboard.get("api/events", after=seq - 1).json()["events"]
    assert [e["path"] for e in kept] == ["/live-one"]
    assert kept[0]["logs"][0]["message"] == "<script>alert(1)</script>"  # data, escaped by the page


def test_a_reconnecting_stream_gets_what_it_missed(dashboard: Dashboard) -> None:
    before = dashboard.get("api/events", limit=1).json()["seq"]
    dashboard.publish(request_event("/missed"))
    with httpx.Client(base_url=dashboard.base, timeout=30) as client:
        with client.stream("GET", "api/stream", headers={"last-event-id": str(before)}) as r:
            data, _ = next_event(sse(r))
            assert data["path"] == "/missed" and data["seq"] == before + 1


def test_huge_log_lines_are_cut(dashboard: Dashboard) -> None:
    before = dashboard.get("api/events", limit=1).json()["seq"]
    dashboard.publish({"type": "log", "worker": "api", "level": "log", "message": "x" * 100_000})
    with httpx.Client(base_url=dashboard.base, timeout=30) as client:
        with client.stream("GET", "api/stream", params={"after": before}) as r:
            data, _ = next_event(sse(r))
    assert len(data["message"]) < 5000 and data["message"].endswith("(100000 chars)")


# -------------------------------------------------------------------------------- KV
def test_kv_namespaces_and_a_page_of_keys(dashboard: Dashboard) -> None:
    namespaces = dashboard.get("api/kv").json()["namespaces"]
    assert namespaces == [{"id": "ns-1", "title": "ns-1", "stored": True}]
    first = dashboard.get("api/kv/keys", ns="ns-1", prefix="bulk/", limit=100).json()
    assert len(first["keys"]) == 100 and not first["complete"]
    rest = dashboard.get("api/kv/keys", ns="ns-1", prefix="bulk/", cursor=first["cursor"]).json()
    assert len(rest["keys"]) == KEYS - 100 and rest["complete"]
    assert dashboard.get("api/kv/keys", ns="ns-1", limit=1001).status_code == 400
    assert dashboard.get("api/kv/keys", ns="ns-1", limit="ten").status_code == 400


@pytest.mark.parametrize("key", HOSTILE)
def test_hostile_kv_keys_round_trip_as_data(dashboard: Dashboard, key: str) -> None:
    names = [k["name"] for k in dashboard.get("api/kv/keys", ns="ns-1", limit=1000).json()["keys"]]
    assert key in names
    found = dashboard.get("api/kv/value", ns="ns-1", key=key).json()
    assert found["value"]["text"] == f"value of {key}"
    assert found["metadata"] == {"html": "<b>bold</b>"}


def test_kv_binary_values_and_bad_requests(dashboard: Dashboard) -> None:
    binary = dashboard.get("api/kv/value", ns="ns-1", key="binary").json()["value"]
    assert binary == {"size": 3, "truncated": False, "hex": "00fffe"}
    assert dashboard.get("api/kv/value", ns="ns-1", key="missing").status_code == 404
    assert dashboard.get("api/kv/keys", ns="../../etc").status_code == 404
    too_long = dashboard.get("api/kv/value", ns="ns-1", key="k" * 600)
    assert too_long.status_code == 400 and "512" in too_long.json()["error"]


# -------------------------------------------------------------------------------- D1
def test_d1_databases_tables_and_pages_of_rows(dashboard: Dashboard) -> None:
    assert dashboard.get("api/d1").json()["databases"][0]["id"] == "db-1"
    (notes,) = dashboard.get("api/d1/tables", db="db-1").json()["tables"]
    assert notes == {"name": "notes", "columns": ["id", "body"], "rows": 121}
    page = dashboard.get("api/d1/rows", db="db-1", table="notes", limit=50, offset=100).json()
    assert page["columns"] == ["id", "body"] and len(page["rows"]) == 21 and page["complete"]
    assert page["rows"][-1] == [121, HOSTILE[0]]
    first = dashboard.get("api/d1/rows", db="db-1", table="notes", limit=50).json()
    assert len(first["rows"]) == 50 and not first["complete"]
    assert dashboard.get("api/d1/rows", db="db-1", table="nope").status_code == 404
    assert dashboard.get("api/d1/tables", db="../kv/ns-1").status_code == 404


def query(dashboard: Dashboard, sql: str, db: str = "db-1") -> httpx.Response:
    return dashboard.client.post("api/d1/query", json={"db": db, "sql": sql})


def test_the_console_runs_one_read_statement(dashboard: Dashboard) -> None:
    result = query(dashboard, "SELECT count(*) AS n FROM notes WHERE body LIKE 'note%'").json()
    assert result == {"columns": ["n"], "rows": [[120]], "truncated": False}
    cte = query(dashboard, "WITH x AS (SELECT 1 AS a) SELECT a FROM x").json()
    assert cte["rows"] == [[1]]
    big = query(dashboard, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c "
                "WHERE i < 5000) SELECT i FROM c").json()  # fmt: skip
    assert len(big["rows"]) == 1000 and big["truncated"]


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("DELETE FROM notes", "read-only: DELETE is not allowed"),
        ("drop table notes", "read-only: DROP is not allowed"),
        ("UPDATE notes SET body = 'x'", "read-only: UPDATE"),
        ("PRAGMA journal_mode = DELETE", "read-only: PRAGMA"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "read-only: ATTACH"),
        ("SELECT 1; DELETE FROM notes", "one statement at a time"),
        ("WITH x AS (SELECT 1) DELETE FROM notes", "not authorized"),
        ("   -- nothing\n", "no SQL"),
    ],
)
def test_the_console_refuses_anything_but_one_read(
    dashboard: Dashboard, sql: str, says: str
) -> None:
    answer = query(dashboard, sql)
    assert answer.status_code == 400
    assert says in answer.json()["error"]
    rows = dashboard.get("api/d1/tables", db="db-1").json()["tables"][0]["rows"]
    assert rows == 121  # nothing changed


def test_the_console_wants_json_and_a_known_database(dashboard: Dashboard) -> None:
    form = dashboard.client.post("api/d1/query", data={"db": "db-1", "sql": "SELECT 1"})
    assert form.status_code == 415  # a cross-site form post cannot reach it
    assert query(dashboard, "SELECT 1", db="nope").status_code == 404
    assert "SQLite: no such table" in query(dashboard, "SELECT * FROM missing").json()["error"]


# -------------------------------------------------------------------------------- R2
def test_r2_buckets_folders_objects_and_previews(dashboard: Dashboard) -> None:
    assert dashboard.get("api/r2").json()["buckets"] == [{"name": "photos", "stored": True}]
    top = dashboard.get("api/r2/objects", bucket="photos").json()
    assert top["prefixes"] == ["cats/", "dogs/"]
    assert [o["key"] for o in top["objects"]] == [HOSTILE[0]]
    one = dashboard.get("api/r2/object", bucket="photos", key="cats/one.txt").json()
    assert one["value"]["text"] == "meow" and one["customMetadata"] == {"who": "<script>x</script>"}
    paged = dashboard.get("api/r2/objects", bucket="photos", prefix="cats/", limit=1).json()
    assert paged["complete"] and [o["key"] for o in paged["objects"]] == ["cats/one.txt"]
    assert dashboard.get("api/r2/objects", bucket="nope").status_code == 404
    assert dashboard.get("api/r2/object", bucket="photos", key="gone").status_code == 404


# ------------------------------------------------------------ DOs, queues, workflows
def test_durable_objects_their_objects_and_keys(dashboard: Dashboard) -> None:
    (ns,) = dashboard.get("api/do").json()["namespaces"]
    assert ns["namespace"] == "counter-worker-Counter" and ns["objects"] == 1
    objects = dashboard.get("api/do/objects", ns=ns["namespace"]).json()
    (alice,) = objects["objects"]
    assert alice["name"] == "alice" and alice["keys"] == 2 and objects["total"] == 1
    keys = dashboard.get("api/do/keys", ns=ns["namespace"], id=alice["id"], limit=1).json()
    assert keys["keys"] == [{"key": HOSTILE[0], "value": {"x": [1, 2]}}] and not keys["complete"]
    rest = dashboard.get("api/do/keys", ns=ns["namespace"], id=alice["id"], cursor=keys["cursor"])
    assert rest.json()["keys"] == [{"key": "count", "value": 3}]
    bad = dashboard.get("api/do/keys", ns=ns["namespace"], id="../../x")
    assert bad.status_code == 404
    assert dashboard.get("api/do/objects", ns="..").status_code == 404


def test_queue_messages_are_shown_without_being_consumed(dashboard: Dashboard) -> None:
    (jobs,) = dashboard.get("api/queues").json()["queues"]
    assert jobs["name"] == "jobs" and jobs["ready"] == 3
    for _ in range(2):
        messages = dashboard.get("api/queues/messages", queue="jobs", limit=2).json()["messages"]
        assert [m["body"] for m in messages] == [{"n": 0}, {"n": 1}]
    assert dashboard.get("api/queues/messages", queue="jobs", limit=101).status_code == 400
    assert dashboard.get("api/queues/messages", queue="nope").status_code == 404


def test_workflow_instances(dashboard: Dashboard) -> None:
    (signup,) = dashboard.get("api/workflows").json()["workflows"]
    assert signup["name"] == "signup" and signup["instances"] == 1
    (instance,) = dashboard.get("api/workflows/instances", workflow="signup").json()["instances"]
    assert instance["id"] == "inst-1" and instance["params"] == '{"email": "a@b"}'


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("api/kv/keys", {"ns": "ns-1", "cursor": "a"}, 400),
        ("api/r2/objects", {"bucket": "photos", "cursor": "!!"}, 400),
        ("api/events", {"after": "-1"}, 400),
        ("api/do/objects", {"ns": "counter-worker-Counter", "offset": "x"}, 400),
        ("api/kv/keys", {"ns": "ns-1", "prefix": "\udcff\x00"}, 200),
        ("api/workflows/instances", {"workflow": "nope"}, 200),
    ],
)
def test_bad_arguments_get_one_line_errors(
    dashboard: Dashboard, path: str, params: dict[str, str], status: int
) -> None:
    raw = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogateescape'))}" for k, v in params.items())
    answer = dashboard.client.get(f"{path}?{raw}")
    assert answer.status_code == status, answer.text
    if status == 400:
        message = answer.json()["error"]
        assert message and "\n" not in message and "Traceback" not in message


def test_an_oversized_query_is_refused(dashboard: Dashboard) -> None:
    answer = dashboard.client.post(
        "api/d1/query", json={"db": "db-1", "sql": "SELECT 1 -- " + "x" * 300_000}
    )
    assert answer.status_code == 413 and "larger than" in answer.json()["error"]


def test_the_banner_prints_the_dashboard_first(dashboard: Dashboard) -> None:
    lines = dashboard.handle.banner_lines()
    assert lines[0].endswith(f"on http://127.0.0.1:{dashboard.handle.port}/_dashboard/")
    assert lines[0].startswith("⎔ Dashboard") and len(lines) == 3
