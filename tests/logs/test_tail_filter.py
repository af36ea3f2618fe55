import pytest

from wranglerpy.errors import UsageError
from wranglerpy.logs.tail_filter import TailFilter
from wranglerpy.logs.tail_format import to_tail_event


def event(**overrides: object) -> dict:
    base = {
        "worker": "api",
        "method": "GET",
        "url": "http://api.localhost/",
        "headers": {"x-tenant": "acme", "cf-connecting-ip": "10.1.1.1"},
        "logs": [{"message": ["user 42 logged in"], "level": "log", "timestamp": 1}],
        "exceptions": [],
        "status": 200,
        "outcome": "ok",
        "duration_ms": 1.0,
        "ts": 1.0,
    }
    base.update(overrides)
    return to_tail_event(base)


def test_status_method_header_ip_and_search() -> None:
    ok, failed = event(), event(outcome="exception", status=500)
    assert TailFilter.build(status=["error"]).accepts(failed)
    assert not TailFilter.build(status=["error"]).accepts(ok)
    assert TailFilter.build(status=["ok", "canceled"]).accepts(ok)
    assert TailFilter.build(method=["get"]).accepts(ok)
    assert not TailFilter.build(method=["POST"]).accepts(ok)
    assert TailFilter.build(header=["X-Tenant"]).accepts(ok)
    assert TailFilter.build(header=["x-tenant:acme"]).accepts(ok)
    assert not TailFilter.build(header=["x-tenant:other"]).accepts(ok)
    assert TailFilter.build(ip=["10.1.1.1"]).accepts(ok)
    assert not TailFilter.build(ip=["self"]).accepts(ok)
    assert TailFilter.build(ip=["self"]).accepts(event(headers={}, client="127.0.0.1"))
    assert TailFilter.build(search="logged in").accepts(ok)
    assert not TailFilter.build(search="logged out").accepts(ok)
    both = TailFilter.build(method=["GET"], status=["error"])
    assert not both.accepts(ok) and both.accepts(event(outcome="exception"))


def test_rpc_events_do_not_match_request_filters() -> None:
    rpc = event(rpcMethod="add")
    assert not TailFilter.build(method=["GET"]).accepts(rpc)
    assert TailFilter.build().accepts(rpc)


def test_sampling_rate_keeps_that_fraction() -> None:
    rolls = iter([0.05, 0.5, 0.95])
    sampled = TailFilter.build(sampling_rate=0.1)
    sampled = TailFilter(**{**sampled.__dict__, "random": lambda: next(rolls)})
    assert [sampled.accepts(event()) for _ in range(3)] == [True, False, False]


@pytest.mark.parametrize(
    "kwargs", [{"status": ["broken"]}, {"sampling_rate": 0.0}, {"header": [":v"]}]
)
def test_bad_filters_are_usage_errors(kwargs: dict) -> None:
    with pytest.raises(UsageError):
        TailFilter.build(**kwargs)
