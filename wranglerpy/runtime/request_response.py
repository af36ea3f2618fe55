"""``Request`` and ``Response`` as Cloudflare's Python SDK (``workers``) shapes them.

``request.headers``/``response.headers`` are ``http.client.HTTPMessage`` copies, ``method`` an
``http.HTTPMethod``, ``cf`` an attribute object. This ``Response`` is the runtime's: it takes
any body the runtime produces (streams of bytes included) and is what the SDK calls
``FetchResponse``; ``workers.Response`` (``wranglerpy.runtime.workers_api``) is its subclass whose
constructor accepts only what Cloudflare's accepts.
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

from wranglerpy.jsobject import as_js_object as _to_attrs
from wranglerpy.runtime.body import Body, BodyInit
from wranglerpy.runtime.buffers import JsType
from wranglerpy.runtime.headers import Headers, HeadersCopy, HeadersInit
from wranglerpy.runtime.httpmethod import HTTPMethod

# https://fetch.spec.whatwg.org/#null-body-status
NULL_BODY_STATUSES = frozenset({101, 204, 205, 304})
NULL_BODY_MESSAGE = "Response with null body status (101, 204, 205, or 304) cannot have a body."


def empty_buffer(body: Any) -> bool:
    """A zero-length, buffer-backed body (``""``, ``b""``, an empty typed array): workerd lets
    a null-body status carry one, for old Workers' sake (``api/http.c++:1077-1093``)."""
    if isinstance(body, (str, bytes, bytearray, memoryview)):
        return len(body) == 0
    length = getattr(body, "byteLength", None)
    return isinstance(length, int) and length == 0 and not hasattr(body, "getReader")


def _headers_init(headers: Any) -> Any:
    """The SDK accepts a dict, a list of pairs or a JS ``Headers`` (``_to_js_headers``)."""
    if headers is None or isinstance(headers, (dict, list, Headers, HeadersCopy)):
        return headers
    if hasattr(headers, "items") or hasattr(headers, "entries"):
        return headers.items() if hasattr(headers, "items") else headers.entries()
    raise TypeError("Received unexpected type for headers argument")


class Request(JsType, Body):
    """An incoming or outgoing HTTP request: ``Request(url_or_request, method=..., headers=...,
    body=..., cf=...)``, as the SDK's ``Request(input, **FetchKwargs)``."""

    js_name = "Request"
    _used_message = "Body already used"
    url: str
    _method: str
    _headers: Headers
    _cf: Any

    def __init__(self, input: str | Request | Any, **options: Any) -> None:
        unknown = set(options) - {"method", "headers", "body", "redirect", "cf", "fetcher"}
        if unknown:
            raise TypeError(f"Request() got unexpected keyword arguments: {sorted(unknown)}")
        method = options.get("method")
        headers = options.get("headers")
        body = options.get("body")
        cf = options.get("cf")
        self.redirect: str = options.get("redirect") or "follow"
        if isinstance(input, Request):
            self.url = input.url
            method = method or input._method
            self._headers = Headers(
                _headers_init(headers) if headers is not None else input._headers
            )
            self._cf = cf if cf is not None else input._cf
            if body is None and input.has_body():
                body = input
        else:
            url = str(input)
            if not urlsplit(url).scheme:
                raise TypeError(f"Invalid URL: {url}")
            self.url = url
            self._headers = Headers(_headers_init(headers))
            self._cf = cf
        self._method = str(getattr(method, "value", method) or "GET").upper()
        if body is not None and self._method in ("GET", "HEAD"):
            raise TypeError("Request with a GET or HEAD method cannot have a body.")
        implied = self._init_body(body)
        if implied and "content-type" not in self._headers:
            self._headers.set("content-type", implied)

    @property
    def method(self) -> HTTPMethod:
        return HTTPMethod[self._method]

    @property
    def headers(self) -> HeadersCopy:
        return self._headers.message()

    @property
    def cf(self) -> Any:
        """Cloudflare's properties of the incoming request (``request.cf.country``), or None."""
        if self._cf is None or isinstance(self._cf, JsType):
            return self._cf
        return _to_attrs(self._cf)

    @property
    def js_object(self) -> Request:
        """On Cloudflare the JS request; here the request is its own JS object."""
        return self

    @property
    def _js_request(self) -> Request:
        # The SDK's private name for the same (workerd src/pyodide/internal/workers-api/src/
        # workers/_workers.py:725-746); django-cf reads it.
        return self

    @property
    def body_used(self) -> bool:
        return super().body_used

    def clone(self) -> Request:
        self._raise_if_used()
        return Request(
            self.url,
            method=self._method,
            headers=self._headers,
            body=self._tee(),
            cf=self._cf,
            redirect=self.redirect,
        )

    def __repr__(self) -> str:
        return f"Request(method={self._method!r}, url={self.url!r})"


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class _StaticOrInstance:
    """``Response.json(data, ...)`` builds a response; ``await response.json()`` reads one,
    as the SDK's ``json`` does with one method for both."""

    def __init__(self, on_class: Callable[..., Any], on_instance: Callable[..., Any]) -> None:
        self.on_class = on_class
        self.on_instance = on_instance

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        if instance is None:
            return lambda *a, **kw: self.on_class(owner, *a, **kw)
        return lambda *a, **kw: self.on_instance(instance, *a, **kw)


class Response(JsType, Body):
    """An HTTP response: ``Response(body, status, status_text, headers, web_socket)``."""

    js_name = "Response"
    _used_message = "Response body is already used"

    def __init__(
        self,
        body: BodyInit = None,
        status: HTTPStatus | int | None = None,
        status_text: str = "",
        headers: HeadersInit | Any = None,
        web_socket: Any = None,
        *,
        statusText: str | None = None,  # noqa: N803 - the Fetch API's name
        webSocket: Any = None,  # noqa: N803 - the Fetch API's name
    ) -> None:
        web_socket = web_socket if web_socket is not None else webSocket
        code = int(status) if status else 200
        # workerd's RangeError, which the SDK raises as ValueError (utils._to_python_exception).
        if web_socket is not None and code != 101:
            raise ValueError("Responses with a WebSocket must have status code 101.")
        if web_socket is None and not 200 <= code <= 599:
            raise ValueError(
                "Responses may only be constructed with status codes in the range 200 to 599, "
                "inclusive."
            )
        self.status: int = code
        text = status_text or statusText
        self._status_text = text if text else ""
        self._headers = Headers(_headers_init(headers))
        self.webSocket = web_socket
        self.url = ""
        self.redirected = False
        self.type = "default"
        if code in NULL_BODY_STATUSES:
            # Worker code gets workerd's TypeError (api.Response, js Response.new); a body the
            # runtime relays for such a status (an ASGI app's empty 204) is dropped.
            body = None
        implied = self._init_body(body)
        if implied and "content-type" not in self._headers:
            self._headers.set("content-type", implied)

    @property
    def headers(self) -> HeadersCopy:
        return self._headers.message()

    @property
    def status_text(self) -> str:
        return self._status_text

    @property
    def statusText(self) -> str:  # noqa: N802 - the Fetch API's name
        return self._status_text

    @property
    def ok(self) -> bool:
        return 200 <= self.status <= 299

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def web_socket(self) -> Any:
        return self.webSocket

    @property
    def js_object(self) -> Response:
        return self

    @property
    def js_response(self) -> Response:
        return self

    json: Any = _StaticOrInstance(lambda cls, *a, **kw: cls.from_json(*a, **kw), Body.json)

    @classmethod
    def from_json(
        cls,
        data: Any,
        status: HTTPStatus | int = HTTPStatus.OK,
        status_text: str = "",
        headers: HeadersInit | Any = None,
    ) -> Response:
        """A JSON response; the text is ``json.dumps(data)`` (so ``", "`` and ``": "``)."""
        merged = Headers(_headers_init(headers))
        if "content-type" not in merged:
            merged.set("content-type", "application/json")
        return cls(_json.dumps(data), status, status_text, merged)

    @staticmethod
    def redirect(url: str, status: HTTPStatus | int = HTTPStatus.FOUND) -> Response:
        code = int(status)
        if code not in (301, 302, 303, 307, 308):
            raise ValueError(f"Invalid redirect status code {code}")
        response = Response(None, code, headers={"location": str(url)})
        return response

    @classmethod
    def error(cls) -> Response:
        response = Response(None, 200)
        response.status = 0
        response.type = "error"
        return response

    def raise_for_status(self) -> None:
        """Pyodide's ``FetchResponse.raise_for_status``."""
        kind = "Client" if 400 <= self.status < 500 else "Server"
        if 400 <= self.status < 600:
            raise OSError(f"{self.status} {kind} Error: {self.status_text} for url: {self.url}")

    def replace_body(self, body: BodyInit) -> Response:
        """A new response with this one's status and headers and ``body``."""
        return type(self)(body, self.status, self._status_text, self._headers)

    def clone(self) -> Response:
        self._raise_if_used()
        copy = Response(None, self.status or 200, self._status_text, self._headers)
        copy.status = self.status
        copy._init_body(self._tee())
        copy.url, copy.type, copy.redirected = self.url, self.type, self.redirected
        return copy

    def __repr__(self) -> str:
        parts = [f"status={self.status}"]
        if self._status_text:
            parts.append(f"status_text={self._status_text!r}")
        if "content-type" in self._headers:
            parts.append(f"content_type={self._headers.get('content-type')!r}")
        if self.url:
            parts.append(f"url={self.url!r}")
        return f"Response({', '.join(parts)})"


def default_status_text(status: int) -> str:
    return _status_text(status)


def make_request(
    input: Any,
    init: Any = None,
    *,
    base_url: str | None = "https://fake-host/",
    **options: Any,
) -> Request:
    """Normalise ``fetch(input, **options)`` arguments into a ``Request``.

    A relative URL resolves against ``base_url``; with no base (``fetch`` and service
    bindings, whose Fetchers require a host: workerd ``server/server.c++:4784``) it is workerd's
    JS ``TypeError``: ``Invalid URL: /x`` from the ``Request`` constructor under
    ``fetch_standard_url`` (``api/http.c++:353-356``), else ``Fetch API cannot load: /x``
    (``Fetcher::parseUrl``, ``api/http.c++:2577-2579, 2634-2635``).
    """
    if init is not None:
        merged = dict(init.to_py() if hasattr(init, "to_py") else init)
        merged.update({k: v for k, v in options.items() if v is not None})
        options = merged
    options = {k: v for k, v in options.items() if v is not None}
    if isinstance(input, Request):
        return Request(input, **options) if options else input
    url = str(input)
    if not urlsplit(url).scheme:
        if base_url is None:
            from wranglerpy.runtime import compat
            from wranglerpy.runtime.ffi import JsTypeError

            if compat.process().fetch_standard_url:
                raise JsTypeError(f"Invalid URL: {url}")
            raise JsTypeError(f"Fetch API cannot load: {url}")
        url = urljoin(base_url, url)
    return Request(url, **options)
