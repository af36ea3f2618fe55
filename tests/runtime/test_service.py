import asyncio
import socket

import pytest

from wranglerpy.config.schema import ServiceBinding
from wranglerpy.registry.dev_registry import DevRegistry, WorkerEntry
from wranglerpy.runtime.binding_client import UnixFrameTransport, _Connection
from wranglerpy.runtime.binding_server import BindingServer
from wranglerpy.runtime.service import RPCError, ServiceFetcher


class InProcessTransport(UnixFrameTransport):
    """The real frame protocol over an in-memory socket pair, to a BindingServer in this loop."""

    def __init__(self, app) -> None:
        super().__init__("unused")
        self.server = BindingServer(app)
        self.tasks = []

    async def _connect(self):
        ours, theirs = socket.socketpair()
        server_reader, server_writer = await asyncio.open_connection(sock=theirs)
        task = asyncio.ensure_future(self.server._connection(server_reader, server_writer))
        self.tasks.append(task)
        reader, writer = await asyncio.open_connection(sock=ours)
        return _Connection(reader, writer)


TARGET = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        body = await request.text()
        return Response(f"{request.method} {request.url} {body}", headers={"x-seen": request.headers.get("x-in", "")})

    async def generate(self, prompt, *, loud=False):
        return prompt.upper() if loud else prompt

    async def explode(self):
        raise ValueError("bad prompt")

    async def custom(self):
        class QuotaExceeded(Exception):
            pass
        raise QuotaExceeded("over quota")
"""


@pytest.fixture
async def fetcher(harness, tmp_path):
    client = harness.build(TARGET, token="secret-token")
    registry = DevRegistry(tmp_path / "registry")
    import os

    registry.register(
        WorkerEntry(
            name="target",
            base_name="target",
            env=None,
            socket="/unused",
            url="http://target.local",
            token="secret-token",
            pid=os.getpid(),
        )
    )

    transport = InProcessTransport(harness.app)
    fetcher = ServiceFetcher(
        ServiceBinding("TARGET", "target"),
        "caller",
        registry,
        transport_factory=lambda _socket: transport,
    )
    yield fetcher
    await fetcher.aclose()
    await transport.server.close(grace=1.0)
    del client


async def test_fetch_keeps_method_path_query_headers_and_body(fetcher, harness):
    response = await fetcher.fetch(
        "http://any.host/p?q=1", method="PUT", headers={"x-in": "v"}, body="data"
    )
    assert response.status == 200
    assert await response.text() == "PUT http://any.host/p?q=1 data"
    assert response.headers.get("x-seen") == "v"
    event = harness.requests()[0]
    assert event["caller"] == "caller"


async def test_relative_url_uses_the_target_url(fetcher):
    response = await fetcher.fetch("/rel")
    assert (await response.text()).startswith("GET http://target.local/rel")


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


async def test_rpc_arguments_must_be_json(fetcher):
    with pytest.raises(TypeError, match="JSON-serialisable"):
        await fetcher.generate(object())


async def test_missing_target_answers_503(tmp_path):
    fetcher = ServiceBinding("X", "nowhere")
    missing = ServiceFetcher(fetcher, "caller", DevRegistry(tmp_path / "empty"))
    response = await missing.fetch("http://x/")
    assert response.status == 503
    assert await response.text() == 'Worker "nowhere" not found. Make sure it is running locally.'


def test_environment_prefers_the_env_worker(tmp_path):
    import os

    registry = DevRegistry(tmp_path)
    base = dict(env=None, socket="s", url="u", token="t", pid=os.getpid())
    registry.register(WorkerEntry(name="svc", base_name="svc", **base))
    assert registry.lookup("svc", "production").name == "svc"
    registry.register(
        WorkerEntry(name="svc-production", base_name="svc", **{**base, "env": "production"})
    )
    assert registry.lookup("svc", "production").name == "svc-production"
    assert registry.lookup("svc").name == "svc"


def test_entries_of_dead_processes_are_ignored(tmp_path):
    registry = DevRegistry(tmp_path)
    registry.register(
        WorkerEntry(
            name="gone",
            base_name="gone",
            env=None,
            socket="s",
            url="u",
            token="t",
            pid=2**22 + 12345,
        )
    )
    assert registry.get("gone") is None
