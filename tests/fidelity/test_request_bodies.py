"""A Python generator or async iterator as a ``fetch`` body, as it reaches workerd through the
SDK's ``fetch``/``pyfetch`` (``to_js`` leaves it a Python object):

- before 2026-02-19 workerd stringifies it (``compatibility-date.capnp:1237-1250``,
  ``fetch_iterable_type_support``): the body sent is its text;
- from then on it is iterated (``api/http.c++:96-97``) and fetch fails with
  ``TypeError: This ReadableStream did not return bytes.`` (``api/streams/standard.c++:3428``)
  unless the chunks are JS buffers; pyfetch raises that as ``AbortError``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import workers

from wranglerpy.runtime import compat


class Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.headers.get("transfer-encoding") == "chunked":
            body = _read_chunked(self.rfile)
        reply = f"{self.headers.get('content-type')}|".encode() + body
        self.send_response(200)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


def _read_chunked(stream) -> bytes:
    data = b""
    while True:
        size = int(stream.readline().strip(), 16)
        if size == 0:
            stream.readline()
            return data
        data += stream.read(size)
        stream.readline()


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


class Chunks:
    """An async iterator that records whether it was closed."""

    def __init__(self, *chunks: object) -> None:
        self.chunks = list(chunks)
        self.closed = False

    def __aiter__(self) -> AsyncIterator[object]:
        return self

    async def __anext__(self) -> object:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return "<Chunks>"


@pytest.fixture
def dated(monkeypatch: pytest.MonkeyPatch):
    def set_date(date: str) -> None:
        monkeypatch.setattr(compat, "_process", compat.Compat.of(date))

    return set_date


async def test_from_2026_02_19_python_chunks_fail_the_fetch(server: str, dated) -> None:
    from pyodide.http import AbortError

    dated("2026-02-19")
    body = Chunks(b'{"prompt": "hi"}')
    with pytest.raises(AbortError, match=r"^This ReadableStream did not return bytes\.$"):
        await workers.fetch(server, method="POST", body=body)
    assert body.closed


async def test_from_2026_02_19_js_buffer_chunks_are_sent(server: str, dated) -> None:
    from pyodide.ffi import to_js

    dated("2026-03-01")
    body = Chunks(to_js(b"ab"), to_js(b"cd"))
    response = await workers.fetch(server, method="POST", body=body)
    assert (await response.text()).endswith("|abcd")


async def test_before_2026_02_19_the_object_is_stringified(server: str, dated) -> None:
    dated("2025-10-01")
    response = await workers.fetch(server, method="POST", body=Chunks(b"lost"))
    assert await response.text() == "text/plain;charset=UTF-8|<Chunks>"


async def test_a_service_binding_body_fails_the_same_way(tmp_path: Path, dated) -> None:
    """SDK/rpc.py:352-354: a service binding's fetch is the SDK's fetch with its fetcher."""
    from pyodide.http import AbortError

    from wranglerpy.config.schema import ServiceBinding
    from wranglerpy.host.locations import Locations
    from wranglerpy.runtime.service import ServiceFetcher

    dated("2026-06-01")

    async def prompt() -> AsyncIterator[bytes]:
        yield b"{}"

    other = ServiceFetcher(ServiceBinding("OTHER", "other"), "caller", Locations(tmp_path))
    with pytest.raises(AbortError, match="did not return bytes"):
        await other.fetch("http://other/stream", method="POST", body=prompt())
