import os
from datetime import datetime, timezone

import pytest

from wranglerpy.config.schema import ServiceBinding
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.runtime.service import RPCError, ServiceFetcher

TARGET = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        body = await request.text()
        return Response(f"{request.method} {request.url} {body}", headers={"x-seen": request.headers.get("x-in", "")})

    async def generate(self, prompt, *, loud=False):
        return prompt.upper() if loud else prompt

    async def echo(self, value):
        return value

    async def stream(self):
        return Response("chunks")

    async def explode(self):
        raise ValueError("bad prompt")

    async def custom(self):
        class QuotaExceeded(Exception):
            pass
        raise QuotaExceeded("over quota")
"""


@pytest.fixture
async def fetcher(harness, tmp_path):
    harness.build(TARGET)
    registry = Locations(tmp_path / "registry")
    registry.register(
        WorkerLocation(
            name="target",
            base_name="target",
            env=None,
            socket=await harness.serve_wire(),
            url="http://target.local",
            pid=os.getpid(),
        )
    )
    fetcher = ServiceFetcher(ServiceBinding("TARGET", "target"), "caller", registry)
    yield fetcher
    await fetcher.aclose()


async def test_fetch_keeps_method_path_query_headers_and_body(fetcher, harness):
    response = await fetcher.fetch(
        "http://any.host/p?q=1", method="PUT", headers={"x-in": "v"}, body="data"
    )
    assert response.status == 200
    assert await response.text() == "PUT http://any.host/p?q=1 data"
    assert response.headers.get("x-seen") == "v"
    event = harness.requests()[0]
    assert event["caller"] == "caller"


async def test_a_relative_url_is_refused_before_any_call(fetcher, harness):
    """See tests/fidelity/test_fetch.py: a service binding's Fetcher requires a host."""
    with pytest.raises(OSError, match="^Invalid URL: /rel$"):
        await fetcher.fetch("/rel")
    assert harness.requests() == []


async def test_rpc_result_and_kwargs(fetcher):
    assert await fetcher.generate("hi") == "hi"
    assert await fetcher.generate("hi", loud=True) == "HI"


async def test_rpc_builtin_exception_type_is_kept(fetcher):
    with pytest.raises(ValueError, match="bad prompt"):
        await fetcher.explode()


async def test_rpc_custom_exception_keeps_its_type_name(fetcher):
    with pytest.raises(RPCError, match="over quota") as info:
        await fetcher.custom()
    assert type(info.value).__name__ == "QuotaExceeded"


async def test_rpc_arguments_that_cannot_travel_are_a_type_error(fetcher):
    with pytest.raises(TypeError, match="cannot be sent"):
        await fetcher.generate(object())


async def test_rpc_values_keep_bytes_datetimes_big_ints_and_nesting(fetcher):
    value = {
        "raw": b"\x00\xff",
        "when": datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc),
        "big": 2**100,
        "nested": [[1, {"a": [True, None, 1.5]}]],
    }
    assert await fetcher.echo(value) == value


async def test_rpc_result_that_cannot_travel_is_a_type_error_in_the_caller(fetcher):
    with pytest.raises(TypeError, match="the result cannot be sent"):
        await fetcher.stream()  # a Response is not a value


async def test_a_fetch_streams_and_the_connection_is_reused(fetcher, harness):
    first = await fetcher.fetch("http://target.local/a")
    second = await fetcher.fetch("http://target.local/b")
    assert await first.text() == "GET http://target.local/a "
    assert await second.text() == "GET http://target.local/b "
    (client,) = fetcher._clients.values()
    assert len(client._idle) == 1  # one connection served both calls


async def test_missing_target_answers_503(tmp_path):
    fetcher = ServiceBinding("X", "nowhere")
    missing = ServiceFetcher(fetcher, "caller", Locations(tmp_path / "empty"))
    response = await missing.fetch("http://x/")
    assert response.status == 503
    assert await response.text() == 'Worker "nowhere" not found. Make sure it is running locally.'


def test_environment_prefers_the_env_worker(tmp_path):
    registry = Locations(tmp_path)
    base = dict(env=None, socket="s", url="u", pid=os.getpid())
    registry.register(WorkerLocation(name="svc", base_name="svc", **base))
    assert registry.lookup("svc", "production").name == "svc"
    registry.register(
        WorkerLocation(name="svc-production", base_name="svc", **{**base, "env": "production"})
    )
    assert registry.lookup("svc", "production").name == "svc-production"
    assert registry.lookup("svc").name == "svc"


def test_entries_of_dead_processes_are_ignored(tmp_path):
    registry = Locations(tmp_path)
    registry.register(
        WorkerLocation(
            name="gone",
            base_name="gone",
            env=None,
            socket="s",
            url="u",
            pid=2**22 + 12345,
        )
    )
    assert registry.get("gone") is None
