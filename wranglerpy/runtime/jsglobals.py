"""JS globals for worker code written against Pyodide's ``js`` module.

On Cloudflare, ``from js import Response`` gives the JS class, built with ``Response.new``;
locally these are thin adapters over the runtime's own classes, so such code runs unchanged.
"""

from __future__ import annotations

import json as _json
from typing import Any
from urllib.parse import urlsplit

from wranglerpy.runtime import console as _console
from wranglerpy.runtime.fetch import fetch as _fetch
from wranglerpy.runtime.headers import Headers as _Headers
from wranglerpy.runtime.htmlrewriter import HTMLRewriter as HTMLRewriter
from wranglerpy.runtime.messages import Request as _Request
from wranglerpy.runtime.messages import Response as _Response


class JsProxy:
    """Marker type: locally, JS objects are plain Python values."""


class ArrayBuffer(bytes):
    """An ArrayBuffer is its bytes locally, so it works wherever bytes do (``Response(buf)``)."""

    @property
    def byteLength(self) -> int:  # noqa: N802 - the JS name
        return len(self)

    def to_bytes(self) -> bytes:
        return bytes(self)

    def to_py(self) -> memoryview:
        return memoryview(bytes(self))


class Uint8Array(bytes):
    """What ``to_js(b"...")`` gives in Pyodide; ``.buffer`` is its ArrayBuffer."""

    @staticmethod
    def new(data: Any = b"") -> Uint8Array:
        return Uint8Array(bytes(data))  # an int gives that many zero bytes, as in JS

    @property
    def buffer(self) -> ArrayBuffer:
        return ArrayBuffer(self)

    @property
    def byteLength(self) -> int:  # noqa: N802 - the JS name
        return len(self)

    @property
    def length(self) -> int:
        return len(self)

    def to_bytes(self) -> bytes:
        return bytes(self)

    def to_py(self) -> memoryview:
        return memoryview(bytes(self))


def to_js(value: Any, *args: Any, **kwargs: Any) -> Any:
    """Bytes become a :class:`Uint8Array`; everything else passes through, since Python
    dicts and lists already work wherever JS objects are expected locally."""
    if isinstance(value, (bytes, bytearray, memoryview)) and not isinstance(value, Uint8Array):
        return Uint8Array(bytes(value))
    return value


def create_proxy(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


def _init(init: Any) -> dict[str, Any]:
    if init is None:
        return {}
    if hasattr(init, "to_py"):
        init = init.to_py()
    if not isinstance(init, dict):
        init = {
            k: getattr(init, k)
            for k in ("status", "statusText", "headers", "method", "body")
            if hasattr(init, k)
        }
    return dict(init)


class Response:
    @staticmethod
    def new(body: Any = None, init: Any = None) -> _Response:
        options = _init(init)
        return _Response(
            body,
            status=options.get("status", 200),
            headers=options.get("headers"),
            statusText=options.get("statusText"),
        )

    @staticmethod
    def json(data: Any, init: Any = None) -> _Response:
        options = _init(init)
        return _Response.json(
            data, status=options.get("status", 200), headers=options.get("headers")
        )

    @staticmethod
    def redirect(url: str, status: int = 302) -> _Response:
        return _Response.redirect(url, status)


class Request:
    @staticmethod
    def new(input: Any, init: Any = None) -> _Request:
        return _Request(input, _init(init))


class Headers:
    @staticmethod
    def new(init: Any = None) -> _Headers:
        return _Headers(to_js(init))


class URL:
    """``URL.new(url)`` with the common read-only parts of the WHATWG URL."""

    def __init__(self, url: str, base: str | None = None) -> None:
        from urllib.parse import urljoin

        self.href = urljoin(base, url) if base else url
        parts = urlsplit(self.href)
        self.protocol = parts.scheme + ":"
        self.host = parts.netloc
        self.hostname = parts.hostname or ""
        self.port = str(parts.port or "")
        self.pathname = parts.path or "/"
        self.search = f"?{parts.query}" if parts.query else ""
        self.hash = f"#{parts.fragment}" if parts.fragment else ""
        self.origin = f"{parts.scheme}://{parts.netloc}"

    @staticmethod
    def new(url: str, base: str | None = None) -> URL:
        return URL(url, base)

    def toString(self) -> str:  # noqa: N802 - the JS name
        return self.href


class JSON:
    @staticmethod
    def stringify(value: Any, *args: Any) -> str:
        return _json.dumps(value, separators=(",", ":"))

    @staticmethod
    def parse(text: str) -> Any:
        return _json.loads(text)


class Object:
    @staticmethod
    def fromEntries(entries: Any) -> dict[Any, Any]:  # noqa: N802 - the JS name
        return dict(entries)


class _Console:
    def _emit(self, level: str, *parts: Any) -> None:
        import sys

        message = " ".join(str(p) for p in parts)
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


console = _Console()
fetch = _fetch
