from wranglerpy.logs.tail_format import pretty, to_tail_event

REQUEST = {
    "type": "request",
    "worker": "api",
    "trace": "abc123",
    "method": "POST",
    "url": "http://api.localhost:8080/chat",
    "path": "/chat",
    "headers": {"authorization": "REDACTED", "cf-connecting-ip": "10.0.0.7"},
    "client": "127.0.0.1",
    "caller": None,
    "logs": [{"message": ["hello", "world"], "level": "warn", "timestamp": 1}],
    "exceptions": [{"name": "ValueError", "message": "bad", "stack": "...", "timestamp": 2}],
    "status": 500,
    "outcome": "exception",
    "duration_ms": 12.5,
    "ts": 1000.0125,
    "version": "f" * 64,
}


def test_request_event_has_wrangler_tail_shape() -> None:
    tail = to_tail_event(REQUEST)
    assert tail["outcome"] == "exception"
    assert tail["scriptName"] == "api"
    assert tail["entrypoint"] == "Default"
    assert tail["eventTimestamp"] == 1000000
    assert tail["event"]["request"] == {
        "url": "http://api.localhost:8080/chat",
        "method": "POST",
        "headers": {"authorization": "REDACTED", "cf-connecting-ip": "10.0.0.7"},
        "cf": {"colo": "LOCAL", "clientIp": "10.0.0.7"},
    }
    assert tail["event"]["response"] == {"status": 500}
    assert tail["logs"] == REQUEST["logs"] and tail["exceptions"] == REQUEST["exceptions"]
    assert tail["wallTime"] == 12 and tail["trace"] == "abc123"
    assert tail["scriptVersion"] == {"id": "f" * 64}


def test_scheduled_and_rpc_events() -> None:
    scheduled = to_tail_event({**REQUEST, "scheduled": {"cron": "*/5 * * * *", "scheduledTime": 5}})
    assert scheduled["event"] == {"cron": "*/5 * * * *", "scheduledTime": 5}
    rpc = to_tail_event({**REQUEST, "rpcMethod": "add", "caller": "api"})
    assert rpc["event"] == {"rpcMethod": "add"} and rpc["caller"] == "api"
    assert "RPC add()" in pretty(rpc)
    assert "Scheduled cron */5 * * * *" in pretty(scheduled)


def test_pretty_is_one_line_plus_logs_and_exceptions() -> None:
    text = pretty(to_tail_event(REQUEST))
    lines = text.splitlines()
    assert (
        "POST http://api.localhost:8080/chat 500 Internal Server Error exception (12 ms)"
        in lines[0]
    )
    assert "trace abc123" in lines[0]
    assert lines[1] == "  (warn) hello world"
    assert lines[2] == "  ✘ ValueError: bad"
    assert "\x1b[" not in text
    assert "\x1b[31m" in pretty(to_tail_event(REQUEST), colour=True)


def test_a_multi_line_log_stays_indented_under_its_event() -> None:
    event = dict(REQUEST, logs=[{"message": ["Traceback:\n  File x\nValueError: bad\n"]}])
    lines = pretty(to_tail_event(event)).splitlines()
    assert lines[1:4] == ["  (log) Traceback:", "      File x", "    ValueError: bad"]
