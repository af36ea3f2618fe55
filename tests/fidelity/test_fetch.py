"""``workers.fetch``: outbound HTTP to a real local server, answered as a ``workers.Response``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import workers


class Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        reply = f"{self.command} {self.path} {self.headers.get('x-a')} {body.decode()}".encode()
        self.send_response(201)
        self.send_header("content-length", str(len(reply)))
        self.send_header("x-multi", "1")
        self.send_header("x-multi", "2")
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


async def test_fetch_returns_a_workers_response(server: str) -> None:
    """SDK/fetch.py:34-44: fetch(resource, **FetchKwargs) → workers.Response."""
    response = await workers.fetch(
        server + "/p?q=1", method="POST", headers={"x-a": "1"}, body="hi"
    )
    assert isinstance(response, workers.Response)
    assert response.status == 201 and response.url == server + "/p?q=1"
    assert response.headers["x-multi"] == "1, 2"
    assert await response.text() == "POST /p?q=1 1 hi"


async def test_a_relative_url_is_an_os_error_through_pyfetch() -> None:
    """workerd api/http.c++:353-356: with fetch_standard_url (compatibility-date.capnp:460-463,
    from 2024-06-03) the Request constructor throws ``TypeError: Invalid URL: /x``; the SDK's
    fetch goes through pyfetch (SDK/fetch.py:34-44), which raises a JsException as
    ``pyodide.http.AbortError`` (an OSError with the message; pyodide http.py pyfetch)."""
    from pyodide.http import AbortError

    with pytest.raises(AbortError, match="^Invalid URL: /x$") as info:
        await workers.fetch("/x")
    assert isinstance(info.value, OSError)


async def test_before_2024_06_03_the_message_is_the_legacy_parsers(monkeypatch) -> None:
    """workerd api/http.c++:2577-2579, 2634-2635: Fetcher::parseUrl with a required host."""
    from wranglerpy.runtime import compat

    monkeypatch.setattr(compat, "_process", compat.Compat.of("2024-06-02"))
    with pytest.raises(OSError, match="^Fetch API cannot load: /x$"):
        await workers.fetch("/x")


async def test_the_js_fetch_throws_the_js_type_error() -> None:
    """``js.fetch`` is the JS function itself: a JsException named TypeError, no pyfetch."""
    import js
    from pyodide.ffi import JsException

    with pytest.raises(JsException) as info:
        await js.fetch("/x")
    assert (info.value.name, info.value.message) == ("TypeError", "Invalid URL: /x")


CALLER = """
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        try:
            await self.env.OTHER.fetch("/x")
        except OSError as exc:
            return Response(f"{type(exc).__name__}: {exc}")
        return Response("resolved")
"""


async def test_a_service_binding_refuses_a_relative_url(harness, tmp_path) -> None:
    """workerd server/server.c++:4778-4785: a service binding is a Fetcher with
    ``requiresHost = true``, so ``/x`` is not resolved against ``https://fake-host/`` (only
    Fetchers without a required host are, api/http.c++:2576-2584: legacy Durable Object stubs,
    compatibility-date.capnp:104-108); the Request constructor throws ``Invalid URL: /x``
    (api/http.c++:353-356). In Python the binding is the SDK's ``_FetcherWrapper``, whose fetch
    goes through pyfetch (SDK/rpc.py:352-354, 426-433): ``AbortError``, an OSError."""
    from wranglerpy.config.schema import ServiceBinding
    from wranglerpy.host.locations import Locations
    from wranglerpy.runtime.service import ServiceFetcher

    other = ServiceFetcher(ServiceBinding("OTHER", "other"), "caller", Locations(tmp_path))
    async with harness.build(CALLER, env={"OTHER": other}) as client:
        response = await client.get("/")
    assert response.text == "AbortError: Invalid URL: /x"
