"""JS globals for worker code written against Pyodide's ``js`` module.

On Cloudflare, ``from js import Response`` gives the JS class, built with ``Response.new``;
Pyodide turns keyword arguments of a call into its last argument's init object
(``Response.new(body, status=404)``). Locally these are adapters over the runtime's classes
that follow the same conventions, so such code runs unchanged.
"""

from __future__ import annotations

import json as _json
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from wranglerpy.jsobject import JSObject
from wranglerpy.runtime import console as _console
from wranglerpy.runtime.buffers import ArrayBuffer, JsType, Uint8Array, js_type_name
from wranglerpy.runtime.fetch import fetch as _fetch
from wranglerpy.runtime.ffi import (
    JsMap,
    JsProxy,
    create_proxy,
    from_entries,
    js_errors,
    to_js,
)
from wranglerpy.runtime.formdata import Blob, File, FormData, URLSearchParams
from wranglerpy.runtime.headers import Headers as _Headers
from wranglerpy.runtime.request_response import NULL_BODY_MESSAGE, NULL_BODY_STATUSES, empty_buffer
from wranglerpy.runtime.request_response import Request as _Request
from wranglerpy.runtime.request_response import Response as _Response
from wranglerpy.runtime.rpc import Date, JsError
from wranglerpy.runtime.streams import ReadableStream, TransformStream, WritableStream

if TYPE_CHECKING:  # at run time: module __getattr__ below
    from wranglerpy.runtime.htmlrewriter import HTMLRewriter

_INIT_KEYS = ("status", "statusText", "headers", "method", "body", "cf", "redirect", "webSocket")


def init_object(init: Any = None, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The properties JS reads from an init argument: keyword arguments (Pyodide's
    convention), an object from ``to_js(..., dict_converter=Object.fromEntries)`` or with
    attributes, or a plain dict. A ``Map`` (``to_js(dict)``) has no properties, so it sets
    nothing, as on Cloudflare."""
    options: dict[str, Any] = {}
    if isinstance(init, JsMap):
        pass
    elif isinstance(init, dict):
        options.update(init)
    elif init is not None:
        options.update({k: getattr(init, k) for k in _INIT_KEYS if hasattr(init, k)})
    options.update(kwargs or {})
    return options


def _js_body(body: Any) -> Any:
    """What JS makes of a body argument: known body types as they are, anything else as its
    string (a Python object crosses into JS as a proxy whose ``toString`` is ``str()``)."""
    if body is None or isinstance(body, (str, _Response, ReadableStream)):
        return body
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if js_type_name(body) is not None:
        return body
    return str(body)


class Response:
    """``js.Response``: ``Response.new(body, init)``, ``Response.json``, ``Response.redirect``."""

    @staticmethod
    @js_errors
    def new(body: Any = None, init: Any = None, **kwargs: Any) -> _Response:
        options = init_object(init, kwargs)
        if isinstance(init, _Response) and not kwargs:
            options = {"status": init.status, "statusText": init.statusText}
            options["headers"] = init._headers
        if body is not None and int(options.get("status") or 200) in NULL_BODY_STATUSES:
            if not empty_buffer(body):
                raise TypeError(NULL_BODY_MESSAGE)
            body = None  # an empty buffer is let through (api/http.c++:1077-1093)
        return _Response(
            _js_body(body),
            options.get("status"),
            options.get("statusText") or "",
            options.get("headers"),
            options.get("webSocket"),
        )

    @staticmethod
    @js_errors
    def json(data: Any, init: Any = None, **kwargs: Any) -> _Response:
        options = init_object(init, kwargs)
        headers = _Headers(options.get("headers"))
        if "content-type" not in headers:
            headers.set("content-type", "application/json")
        text = _json.dumps(_plain(data), separators=(",", ":"), ensure_ascii=False)
        return _Response(text, options.get("status"), options.get("statusText") or "", headers)

    @staticmethod
    @js_errors
    def redirect(url: str, status: int = 302) -> _Response:
        return _Response.redirect(url, status)

    @staticmethod
    def error() -> _Response:
        return _Response.error()


class Request:
    @staticmethod
    @js_errors
    def new(input: Any, init: Any = None, **kwargs: Any) -> _Request:
        options = {k: v for k, v in init_object(init, kwargs).items() if v is not None}
        options.pop("status", None)
        options.pop("statusText", None)
        options.pop("webSocket", None)
        if "body" in options:
            options["body"] = _js_body(options["body"])
        return _Request(input, **options)


class Headers:
    @staticmethod
    @js_errors
    def new(init: Any = None, **kwargs: Any) -> _Headers:
        if kwargs:
            return _Headers(kwargs)
        if isinstance(init, JsMap):
            return _Headers()
        return _Headers(init)


class URL(JsType):
    """``URL.new(url, base)``: the WHATWG URL's parts, settable, with a live ``searchParams``."""

    js_name = "URL"

    def __init__(self, url: str, base: str | None = None) -> None:
        href = urljoin(str(base), str(url)) if base else str(url)
        parts = urlsplit(href)
        if not parts.scheme or (parts.scheme in ("http", "https") and not parts.netloc):
            raise TypeError(f"Invalid URL string: {url}")
        self.protocol = parts.scheme + ":"
        self.username = parts.username or ""
        self.password = parts.password or ""
        self.hostname = (parts.hostname or "").lower()
        self.port = str(parts.port or "")
        if (parts.scheme, self.port) in (("http", "80"), ("https", "443")):
            self.port = ""
        self.pathname = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        self.searchParams = URLSearchParams(parts.query)
        self.hash = f"#{parts.fragment}" if parts.fragment else ""

    @staticmethod
    @js_errors
    def new(url: str, base: str | None = None) -> URL:
        return URL(url, base)

    @staticmethod
    def canParse(url: str, base: str | None = None) -> bool:  # noqa: N802 - the JS name
        try:
            URL(url, base)
        except (TypeError, ValueError):
            return False
        return True

    @property
    def host(self) -> str:
        return f"{self.hostname}:{self.port}" if self.port else self.hostname

    @property
    def origin(self) -> str:
        return f"{self.protocol}//{self.host}"

    @property
    def search(self) -> str:
        query = self.searchParams.toString()
        return f"?{query}" if query else ""

    @search.setter
    def search(self, value: str) -> None:
        self.searchParams = URLSearchParams(str(value))

    @property
    def href(self) -> str:
        auth = ""
        if self.username:
            auth = self.username + (f":{self.password}" if self.password else "") + "@"
        query = self.searchParams.toString()
        return urlunsplit(
            (self.protocol[:-1], auth + self.host, self.pathname, query, self.hash[1:])
        )

    def toString(self) -> str:  # noqa: N802 - the JS name
        return self.href

    def toJSON(self) -> str:  # noqa: N802 - the JS name
        return self.href

    def __str__(self) -> str:
        return self.href


def _plain(value: Any) -> Any:
    if isinstance(value, JsMap):
        return {}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class JSON:
    @staticmethod
    def stringify(value: Any, replacer: Any = None, space: Any = None) -> str:
        indent = space if isinstance(space, int) and space > 0 else None
        seps = (",", ":") if indent is None else (",", ": ")
        return _json.dumps(_plain(value), separators=seps, indent=indent, ensure_ascii=False)

    @staticmethod
    def parse(text: str) -> Any:
        from wranglerpy.jsobject import as_js_object as attrs

        return attrs(_json.loads(str(text)))


class Object:
    @staticmethod
    def fromEntries(entries: Any) -> JSObject:  # noqa: N802 - the JS name
        return from_entries(entries)

    @staticmethod
    def keys(obj: Any) -> list[str]:
        return [str(k) for k in (obj.keys() if isinstance(obj, dict) else vars(obj))]

    @staticmethod
    def entries(obj: Any) -> list[list[Any]]:
        items = obj.items() if isinstance(obj, dict) else vars(obj).items()
        return [[str(k), v] for k, v in items]

    @staticmethod
    def assign(target: Any, *sources: Any) -> Any:
        for source in sources:
            target.update(dict(source))
        return target

    @staticmethod
    def new() -> JSObject:
        return JSObject()


class Array:
    @staticmethod
    def new(*items: Any) -> list[Any]:
        return list(items)

    @staticmethod
    def isArray(value: Any) -> bool:  # noqa: N802 - the JS name
        return isinstance(value, list)

    @staticmethod
    def from_(iterable: Any) -> list[Any]:
        return list(iterable)


class Error:
    @staticmethod
    def new(message: str = "") -> JsError:
        return JsError(str(message))


class _Console:
    def _emit(self, level: str, *parts: Any) -> None:
        message = " ".join(p if isinstance(p, str) else _format(p) for p in parts)
        writer = sys.stdout
        sink = getattr(writer, "_sink", None)
        if sink is not None:
            _console.record(sink, getattr(writer, "_worker", ""), level, message)
        else:
            print(message)

    def log(self, *parts: Any) -> None:
        self._emit("log", *parts)

    def info(self, *parts: Any) -> None:
        self._emit("info", *parts)

    def debug(self, *parts: Any) -> None:
        self._emit("debug", *parts)

    def warn(self, *parts: Any) -> None:
        self._emit("warn", *parts)

    def error(self, *parts: Any) -> None:
        self._emit("error", *parts)


def _format(value: Any) -> str:
    if isinstance(value, (dict, list)):
        try:
            return _json.dumps(_plain(value), ensure_ascii=False)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


console = _Console()
fetch = _fetch


def __getattr__(name: str) -> Any:
    # HTMLRewriter is imported on first use: it is a sizeable part of a worker's start-up that
    # most workers never use (``warm.preload`` imports it for spares; PEP 562).
    if name == "HTMLRewriter":
        from wranglerpy.runtime.htmlrewriter import HTMLRewriter

        globals()[name] = HTMLRewriter
        return HTMLRewriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "JSON",
    "URL",
    "Array",
    "ArrayBuffer",
    "Blob",
    "Date",
    "Error",
    "File",
    "FormData",
    "HTMLRewriter",
    "Headers",
    "JsProxy",
    "Object",
    "ReadableStream",
    "Request",
    "Response",
    "TransformStream",
    "URLSearchParams",
    "Uint8Array",
    "WritableStream",
    "console",
    "create_proxy",
    "fetch",
    "init_object",
    "to_js",
]
