"""The ``workers`` module's surface: names, submodules, ``env``, ``wait_until``, RPC checks."""

from __future__ import annotations

import datetime
import inspect

import pytest
import workers

# SDK/__init__.py:23-51 (__all__) plus the submodules asgi, wsgi and workflows.
SDK_NAMES = {
    "Blob",
    "DurableObject",
    "FetchResponse",
    "File",
    "FormData",
    "Headers",
    "Request",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "env",
    "fetch",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "waitUntil",
    "wait_until",
}


def test_every_sdk_name_is_importable() -> None:
    """SDK/__init__.py:1-61."""
    missing = sorted(n for n in SDK_NAMES if not hasattr(workers, n))
    assert missing == []
    from workers import asgi, workflows, wsgi

    assert callable(asgi.fetch) and callable(wsgi.fetch)
    assert issubclass(workflows.NonRetryableError, Exception)  # SDK/workflows.py:6


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("Response", ["self", "body", "status", "status_text", "headers", "web_socket"]),
        ("Blob", ["self", "blob_parts", "content_type", "endings"]),
        ("File", ["self", "blob_parts", "filename", "content_type", "endings", "last_modified"]),
        ("FormData", ["self", "form_data"]),
    ],
)
def test_constructor_signatures(name: str, params: list[str]) -> None:
    """SDK/response.py:146-153, SDK/blob.py:21-26 and 83-90, SDK/formdata.py:36-38."""
    assert list(inspect.signature(getattr(workers, name).__init__).parameters) == params


def test_fetch_response_is_the_base_of_response() -> None:
    """SDK/response.py:41, 140: class Response(FetchResponse)."""
    assert issubclass(workers.Response, workers.FetchResponse)


def test_env_is_read_when_accessed_and_patch_env_overrides_it() -> None:
    """SDK/__init__.py:54-57 (env from cloudflare:workers) and SDK/utils.py:108-114."""
    from wranglerpy.runtime.env import Env

    Env({"NAME": "one"})
    assert workers.env.NAME == "one"
    with workers.patch_env(NAME="two", EXTRA=1):
        assert workers.env.NAME == "two" and workers.env.EXTRA == 1
    assert workers.env.NAME == "one"
    cf_workers = workers.import_from_javascript("cloudflare:workers")
    assert cf_workers.env.NAME == "one"


def test_json_vars_read_as_objects() -> None:
    """JSON [vars] arrive as JS objects on Cloudflare: attribute access (SDK/rpc.py:57 JsDict)."""
    from wranglerpy.runtime.env import Env

    env = Env({"CONFIG": {"feature": {"on": True}, "list": [{"a": 1}]}})
    assert env.CONFIG.feature.on is True and env.CONFIG.list[0].a == 1


def test_import_from_javascript_of_an_unknown_module_is_import_error() -> None:
    """SDK/utils.py:87-93: a failed JS import is an ImportError naming the module."""
    with pytest.raises(ImportError, match="Failed to import 'npm:left-pad'"):
        workers.import_from_javascript("npm:left-pad")


def test_cloudflare_sockets_is_a_listed_deviation_not_a_stub() -> None:
    """SDK/utils.py:84: Cloudflare offers cloudflare:sockets; wranglerpy does not emulate TCP
    sockets, so the import fails at once, naming it (docs/fidelity.md), instead of returning a
    connect() that only fails when called."""
    with pytest.raises(ImportError, match="'cloudflare:sockets': TCP sockets"):
        workers.import_from_javascript("cloudflare:sockets")


async def test_wait_until_reaches_the_current_request() -> None:
    """SDK/__init__.py:58-60: wait_until is cloudflare:workers' waitUntil."""
    from wranglerpy.runtime.entrypoint import ExecutionContext

    ctx = ExecutionContext()
    ran = []

    async def later() -> None:
        ran.append(True)

    workers.wait_until(later())
    await ctx.drain()
    assert ran == [True]


@pytest.mark.parametrize("value", [(1, 2), bytearray(b"x"), {"nested": (1,)}])
def test_python_to_rpc_refuses_tuples_and_bytearrays(value: object) -> None:
    """SDK/rpc.py:127-128: tuples and bytearrays cannot be sent over RPC."""
    with pytest.raises(TypeError, match="cannot be sent over RPC"):
        workers.python_to_rpc(value)


def test_rpc_round_trip_of_datetimes_and_objects() -> None:
    """SDK/rpc.py:31-46 and 140-165: datetime ↔ Date, objects → attribute dicts."""
    moment = datetime.datetime(2025, 1, 2, 3, 4, 5)
    sent = workers.python_to_rpc({"when": moment, "items": [1, None]})
    back = workers.python_from_rpc(sent)
    assert back.when == moment and back["items"] == [1, None]


RPC_TARGET = """
from workers import WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def pair(self):
        return (1, 2)

    async def echo(self, value):
        return value
"""


async def test_rpc_refuses_tuples_both_ways(harness, tmp_path) -> None:
    """SDK/rpc.py:127-128 through a real service binding: a tuple argument fails in the caller,
    a tuple result comes back as the callee's TypeError."""
    import os

    from wranglerpy.config.schema import ServiceBinding
    from wranglerpy.host.locations import Locations, WorkerLocation
    from wranglerpy.runtime.service import ServiceFetcher

    harness.build(RPC_TARGET)
    registry = Locations(tmp_path / "registry")
    socket = await harness.serve_wire()
    registry.register(WorkerLocation("target", "target", None, socket, "http://t", os.getpid()))
    service = ServiceFetcher(ServiceBinding("TARGET", "target"), "caller", registry)
    try:
        with pytest.raises(TypeError, match="cannot be sent over RPC"):
            await service.echo((1, 2))
        with pytest.raises(TypeError, match="cannot be sent over RPC"):
            await service.pair()
        assert await service.echo([1, {"a": None}]) == [1, {"a": None}]
    finally:
        await service.aclose()
