"""The ingress: by host and routes, as the local edge's router (deploy/routes.py), then the
worker's answer streamed back; internal workers 404 with the edge's message."""

import pytest

pytest.importorskip("starlette")  # Serve's request type, installed with the ray extra

from starlette.requests import Request  # noqa: E402

from wranglerpy.ray.handles import HandleClient  # noqa: E402
from wranglerpy.ray.ingress import Ingress, routing_config  # noqa: E402

from .conftest import StandInHandle  # noqa: E402

ECHO = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        body = await request.text()
        return Response(f"{request.method} {request.url} {body} {request.headers.get('cf-connecting-ip')}")
"""


def request(host: str, path: str, method: str = "GET", body: bytes = b"") -> Request:
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"q=1",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.9", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
    }
    return Request(scope, receive)


@pytest.fixture
def ingress(replica_for):
    replica = replica_for(ECHO)
    ingress = Ingress()
    ingress.reconfigure(
        routing_config(
            {
                "api": (True, ()),
                "shop": (False, ("shop.example.com/*",)),
                "internal": (False, ()),
            }
        )
    )
    for name in ("api", "shop", "internal"):
        ingress.clients[name] = HandleClient(name, StandInHandle(replica))
    return ingress


async def body_of(response) -> bytes:
    if hasattr(response, "body_iterator"):
        return b"".join([chunk async for chunk in response.body_iterator])
    return bytes(response.body)


async def test_routes_by_worker_host_and_by_route_pattern(ingress):
    response = await ingress.handle(request("api.localhost:8000", "/x", "POST", b"hello"))
    assert response.status_code == 200
    assert await body_of(response) == b"POST http://api.localhost:8000/x?q=1 hello 127.0.0.9"
    response = await ingress.handle(request("shop.example.com", "/cart"))
    assert (await body_of(response)).startswith(b"GET http://shop.example.com/cart?q=1")


async def test_an_internal_worker_is_a_404_by_host(ingress):
    response = await ingress.handle(request("internal.localhost", "/"))
    assert response.status_code == 404
    assert b"reachable only through service bindings" in await body_of(response)


async def test_an_unknown_host_is_a_404_that_lists_nothing(ingress):
    response = await ingress.handle(request("nobody.localhost", "/"))
    assert response.status_code == 404
    assert b"api" not in await body_of(response)
