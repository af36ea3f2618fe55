"""Run a WSGI app (Django, Flask) for one ``Request``: ``await wsgi.fetch(app, request, env)``.

As the SDK's ``workers/wsgi.py``: ``PATH_INFO`` percent-decoded, ``QUERY_STRING`` kept encoded,
repeated headers folded with ``","``, ``environ["workers.env"]`` is the env, and the body is
pulled from the app's iterable as the client reads (``close()`` runs once at the end). The
request body is read before the app runs (the SDK's fallback when it cannot stream it).
"""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from wranglerpy.runtime.request_response import NULL_BODY_STATUSES, Request, Response

_END = object()


def build_environ(request: Request, env: Any, body: bytes | io.IOBase) -> dict[str, Any]:
    if isinstance(body, (bytes, bytearray)):
        wsgi_input: Any = io.BytesIO(body)
        length: int | None = len(body)
    else:
        wsgi_input, length = body, None
    url = urlsplit(request.url)
    if not url.scheme:
        raise ValueError(f"Request URL is not absolute: {request.url!r}")
    port = str(url.port) if url.port else ("443" if url.scheme == "https" else "80")
    method = getattr(request.method, "value", request.method)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(method),
        "SCRIPT_NAME": "",
        # WSGI native strings: the decoded path's bytes seen as latin-1 (PEP 3333).
        "PATH_INFO": unquote(url.path or "/").encode("utf-8").decode("latin-1"),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme,
        "wsgi.input": wsgi_input,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "workers.env": env,
    }
    for key, value in request.headers.items():
        name = key.upper().replace("-", "_")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
        else:
            http_name = "HTTP_" + name
            environ[http_name] = environ[http_name] + "," + value if http_name in environ else value
    if "CONTENT_LENGTH" not in environ and length:
        environ["CONTENT_LENGTH"] = str(length)
    return environ


def _process(app: Any, request: Request, env: Any, body: bytes) -> Response:
    environ = build_environ(request, env, body)
    state: dict[str, Any] = {"status": None, "headers": None}
    written: list[bytes] = []

    def write(chunk: bytes) -> None:
        if state["status"] is None:
            raise AssertionError("write() called before start_response()")
        if chunk:
            written.append(chunk)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None:
            try:
                if state["status"] is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif state["status"] is not None:
            raise AssertionError("start_response() called more than once")
        state["status"], state["headers"] = status, headers
        return write

    result = app(environ, start_response)
    chunks = iter(result)
    closed = False

    def close_all() -> None:
        nonlocal closed
        if closed:
            return
        closed = True
        close = getattr(result, "close", None)
        if close is not None:
            close()

    first: Any = _END
    try:
        for chunk in chunks:
            if chunk:
                first = chunk
                break
    except Exception:
        close_all()
        raise
    if state["status"] is None:
        close_all()
        raise RuntimeError("The WSGI application did not call start_response()")
    code_text, _, reason = str(state["status"]).partition(" ")
    code = int(code_text)
    if code in NULL_BODY_STATUSES:
        close_all()
        return Response(None, code, reason, list(state["headers"]))

    def body_chunks() -> Iterator[bytes]:
        yield from written
        if first is not _END:
            yield first
        for chunk in chunks:
            if chunk:
                yield chunk

    async def stream() -> AsyncIterator[bytes]:
        try:
            for chunk in body_chunks():
                yield bytes(chunk)
        finally:
            close_all()

    return Response(stream(), code, reason, list(state["headers"]))


async def fetch(app: Any, req: Request, env: Any, ctx: Any = None) -> Response:
    body = await req.bytes() if req.has_body() else b""
    return _process(app, req, env, body)
