"""``Request`` and ``Response`` with the Fetch API's shape, as Cloudflare Python Workers use them."""

from __future__ import annotations

import functools
import json as _json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from wranglerpy.runtime.body import Body, BodyInit
from wranglerpy.runtime.headers import Headers, HeadersInit


class _ClassOrInstance:
    """Call one function on the class (``Response.json(obj)``) and another on an instance
    (``await response.json()``), as JS does with its static and prototype methods."""

    def __init__(self, on_class: Callable[..., Any], on_instance: Callable[..., Any]) -> None:
        self.on_class = on_class
        self.on_instance = on_instance

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        if instance is None:
            return functools.partial(self.on_class, owner)
        return functools.partial(self.on_instance, instance)


class Request(Body):
    """An incoming or outgoing HTTP request.

    ``Request(url, method="POST", headers={...}, body=...)`` or ``Request(other, headers=...)``
    (a copy with overrides), matching ``new Request(input, init)``.
    """

    url: str
    method: str
    headers: Headers
    cf: dict[str, Any]

    def __init__(
        self,
        input: str | Request | Any,
        init: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        headers: HeadersInit | Any = None,
        body: BodyInit = None,
        cf: dict[str, Any] | None = None,
    ) -> None:
        options = dict(init or {})
        method = method or options.get("method")
        headers = headers if headers is not None else options.get("headers")
        body = body if body is not None else options.get("body")
        cf = cf if cf is not None else options.get("cf")
        if isinstance(input, Request):
            self.url = input.url
            self.method = (method or input.method).upper()
            self.headers = Headers(headers if headers is not None else input.headers)
            self.cf = dict(cf if cf is not None else input.cf)
            if body is None and input.has_body():
                body = input
        else:
            url = str(input)
            if not urlsplit(url).scheme:
                raise TypeError(f"Invalid URL: {url!r} (a Request needs an absolute URL)")
            self.url = url
            self.method = (method or "GET").upper()
            self.headers = Headers(headers)
            self.cf = dict(cf or {})
        if body is not None and self.method in ("GET", "HEAD"):
            raise TypeError("Request with GET/HEAD method cannot have body.")
        implied = self._init_body(body)
        if implied and "content-type" not in self.headers:
            self.headers.set("content-type", implied)

    @property
    def js_object(self) -> Request:
        """Cloudflare's Python Workers expose the JS request here; ours is the request itself."""
        return self

    def clone(self) -> Request:
        if not self.is_buffered():
            raise TypeError("cannot clone a request whose body is a stream")
        return Request(
            self.url, method=self.method, headers=self.headers, body=self._buffer, cf=self.cf
        )

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class Response(Body):
    """An HTTP response. ``body`` may be str, bytes, or an (async) iterable of bytes/str, which
    is streamed to the client chunk by chunk as it is produced (Server-Sent Events work so)."""

    def __init__(
        self,
        body: BodyInit = None,
        init: dict[str, Any] | None = None,
        *,
        status: int | None = None,
        headers: HeadersInit | Any = None,
        statusText: str | None = None,  # noqa: N803 - the Fetch API's name
        status_text: str | None = None,
        web_socket: Any = None,
        webSocket: Any = None,  # noqa: N803 - the Fetch API's name
    ) -> None:
        options = dict(init or {})
        # The client end of a WebSocketPair, served to the client by a 101 response.
        self.webSocket: Any = web_socket or webSocket or options.get("webSocket")
        status = status if status is not None else options.get("status", 200)
        if not isinstance(status, int) or not (200 <= status <= 599 or status == 101):
            raise ValueError(f"Response status must be in the range 200 to 599, got {status!r}")
        self.status: int = status
        text = statusText or status_text or options.get("statusText")
        self.statusText: str = text if text is not None else _status_text(status)
        self.headers = Headers(headers if headers is not None else options.get("headers"))
        implied = self._init_body(body)
        if implied and "content-type" not in self.headers:
            self.headers.set("content-type", implied)

    @property
    def ok(self) -> bool:
        return 200 <= self.status <= 299

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def js_object(self) -> Response:
        return self

    json: Any = _ClassOrInstance(lambda cls, *a, **kw: _response_json(*a, **kw), Body.json)

    @classmethod
    def redirect(cls, url: str, status: int = 302) -> Response:
        if status not in (301, 302, 303, 307, 308):
            raise ValueError(f"Invalid redirect status {status}")
        return cls(None, status=status, headers={"location": url})

    @classmethod
    def error(cls) -> Response:
        return cls(None, status=500)

    def clone(self) -> Response:
        if not self.is_buffered():
            raise TypeError("cannot clone a response whose body is a stream")
        return Response(self._buffer, status=self.status, headers=self.headers)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.statusText}>"


def _response_json(
    data: Any,
    init: dict[str, Any] | None = None,
    *,
    status: int | None = None,
    headers: HeadersInit | Any = None,
) -> Response:
    """``Response.json(data, status=..., headers=...)``: serialise ``data`` as the body."""
    merged = Headers(headers if headers is not None else (init or {}).get("headers"))
    if "content-type" not in merged:
        merged.set("content-type", "application/json")
    payload = _json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(payload, init, status=status, headers=merged)


def make_request(
    input: Any,
    init: dict[str, Any] | None = None,
    *,
    method: str | None = None,
    headers: Any = None,
    body: Any = None,
    base_url: str = "http://fake-host",
) -> Request:
    """Normalise ``fetch(input, init)`` arguments into a ``Request`` (relative URLs allowed)."""
    if isinstance(input, Request):
        if init is None and method is None and headers is None and body is None:
            return input
        return Request(input, init, method=method, headers=headers, body=body)
    url = str(input)
    if url.startswith("/"):
        url = base_url.rstrip("/") + url
    return Request(url, init, method=method, headers=headers, body=body)
