"""Raw HTTP bytes, well-formed and hostile, into the edge router and dev's port (issue 18):
every connection is answered with an HTTP status or closed, within seconds (no hang), no
traceback reaches either log, and no descriptor is left open in the edge process."""

from __future__ import annotations

import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.edge_server import EdgeProcess
from tests.fuzz.conftest import FUZZ
from wranglerpy.testing.dev_server import DevServer

pytestmark = [pytest.mark.timeout(240)]

NAMES = [
    b"Host",
    b"Content-Length",
    b"Transfer-Encoding",
    b"Transfer-Encoding ",
    b"Connection",
    b"Expect",
    b"X-A",
    b"content-length",
    b"Upgrade",
    b"",
]
VALUES = [
    b"api.localhost",
    b"localhost",
    b"chunked",
    b"xchunked",
    b"chunked, gzip",
    b"5",
    b"0",
    b"-1",
    b"+5",
    b"0x5",
    b"99999999999",
    b"close",
    b"keep-alive",
    b"100-continue",
    b"websocket",
    b"a\x00b",
    b"a\rb",
    b"\xff\xfe",
]
header = st.tuples(
    st.sampled_from(NAMES) | st.binary(min_size=1, max_size=12),
    st.sampled_from(VALUES) | st.binary(max_size=24),
).map(lambda pair: pair[0] + b": " + pair[1] + b"\r\n")
chunked_body = st.lists(
    st.tuples(
        st.sampled_from([b"5", b"0", b"zz", b"+5", b"0x5", b"ffffffff", b"5;ext=1", b""]),
        st.binary(max_size=12),
    ),
    max_size=4,
).map(lambda parts: b"".join(size + b"\r\n" + data + b"\r\n" for size, data in parts))
request = st.builds(
    lambda method, target, version, headers, body: (
        method + b" " + target + b" " + version + b"\r\n" + b"".join(headers) + b"\r\n" + body
    ),
    st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"OPTIONS", b"G\x00T", b""]),
    st.sampled_from(
        [b"/", b"/a?b=1", b"/cdn-cgi/handler/scheduled", b"*", b"http://x/y", b"/#f", b"/\x01"]
    )
    | st.binary(max_size=16),
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 ", b"xx"]),
    st.lists(header, max_size=6),
    chunked_body | st.binary(max_size=64),
)
raw_input = (
    request | st.binary(max_size=300) | st.lists(request, min_size=2, max_size=3).map(b"".join)
)


def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, half-close, read until the server closes (a hang fails the test)."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            return b""
    return answer


@pytest.fixture(scope="module")
def edge() -> Iterator[EdgeProcess]:
    with EdgeProcess("header_timeout=5", "body_timeout=5", "idle_timeout=5") as process:
        yield process


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root: Path = tmp_path_factory.mktemp("fuzzdev")
    (root / "worker.py").write_text(
        textwrap.dedent("""
        from workers import WorkerEntrypoint, Response

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                try:  # a cut body is an error the worker sees (and here handles)
                    data = await request.bytes() if request.method not in ("GET", "HEAD") else b""
                except ConnectionError:
                    return Response("cut", status=400)
                return Response(str(len(data)))
    """)
    )
    (root / "wrangler.toml").write_text(
        'name = "fuzzdev"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
    )
    with DevServer(
        root / "wrangler.toml",
        cwd=root,
        watch=False,
        extra_args=[
            "--no-services",
            "--http-limit",
            "body_timeout=5",
            "--http-limit",
            "idle_timeout=5",
        ],
    ) as server:
        yield server


@FUZZ
@given(data=raw_input)
def test_the_edge_answers_or_closes_every_input(edge: EdgeProcess, data: bytes) -> None:
    answer = exchange(edge.port, data)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 "), answer[:200]


def test_the_edge_logged_no_traceback_and_kept_no_descriptor(edge: EdgeProcess) -> None:
    exchange(edge.port, b"GET / HTTP/1.1\r\nHost: api.localhost\r\n\r\n")  # pools one worker call
    before = edge.fds()
    for data in (
        b"POST / HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz",
        b"GET / HTTP/1.1\r\nHost: api.localhost\r\n\r\n",
        b"\x00" * 50,
    ):
        for _ in range(30):
            exchange(edge.port, data)
    deadline = time.monotonic() + 10
    while edge.fds() > before and time.monotonic() < deadline:
        time.sleep(0.1)  # connections the edge just closed may still be finishing
    assert edge.fds() <= before
    assert "Traceback" not in edge.log(), edge.log()[-3000:]


@FUZZ
@given(data=raw_input)
def test_dev_answers_or_closes_every_input(dev: DevServer, data: bytes) -> None:
    answer = exchange(dev.port, data)
    assert answer == b"" or answer.startswith(b"HTTP/1."), answer[:200]


def test_dev_logged_no_traceback(dev: DevServer) -> None:
    exchange(dev.port, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9\r\n\r\nab")
    assert "Traceback" not in dev.output(), dev.output()[-3000:]
