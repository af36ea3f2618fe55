"""JS binary types as worker code sees them through Pyodide: ``ArrayBuffer`` and ``Uint8Array``.

Locally they are ``bytes`` subclasses, so they work wherever bytes do, and they carry the JS
names (``byteLength``, ``.buffer``) and Pyodide's conversions (``to_bytes()``, ``to_py()``).
Plain Python ``bytes`` stay a different type on purpose: on Cloudflare they cross into JS as a
proxy, not as a buffer, so a stream that enqueues them fails there and here alike.
"""

from __future__ import annotations

from typing import Any


class _Constructor:
    """``obj.constructor.name``, which the SDK reads to tell JS types apart."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class JsType:
    """Mixin giving an object the JS class name the SDK checks (``_get_js_constructor_name``)."""

    js_name = "Object"

    @property
    def constructor(self) -> _Constructor:
        return _Constructor(self.js_name)


class JsBytes(JsType, bytes):
    """The part ``ArrayBuffer`` and typed arrays share: their size under its JS name, and
    Pyodide's conversions back to Python."""

    @property
    def byteLength(self) -> int:  # noqa: N802 - the JS name
        return len(self)

    def to_bytes(self) -> bytes:
        return bytes(self)

    def to_memoryview(self) -> memoryview:
        return memoryview(bytes(self))

    def to_py(self) -> memoryview:
        return memoryview(bytes(self))


class ArrayBuffer(JsBytes):
    """An ArrayBuffer is its bytes locally, so it works wherever bytes do (``Response(buf)``)."""

    js_name = "ArrayBuffer"

    @staticmethod
    def new(length: int = 0) -> ArrayBuffer:
        return ArrayBuffer(bytes(length))

    def slice(self, start: int = 0, end: int | None = None) -> ArrayBuffer:
        return ArrayBuffer(bytes(self)[start:end])


class Uint8Array(JsBytes):
    """What ``to_js(b"...")`` gives in Pyodide; ``.buffer`` is its ArrayBuffer."""

    js_name = "Uint8Array"

    @staticmethod
    def new(data: Any = b"", *args: Any) -> Uint8Array:
        if isinstance(data, str):
            raise TypeError("Uint8Array.new() takes a length, an array or a buffer")
        return Uint8Array(bytes(data))  # an int gives that many zero bytes, as in JS

    @property
    def buffer(self) -> ArrayBuffer:
        return ArrayBuffer(self)

    @property
    def length(self) -> int:
        return len(self)

    def subarray(self, start: int = 0, end: int | None = None) -> Uint8Array:
        return Uint8Array(bytes(self)[start:end])

    def slice(self, start: int = 0, end: int | None = None) -> Uint8Array:
        return Uint8Array(bytes(self)[start:end])


def is_js_buffer(value: Any) -> bool:
    """An ``ArrayBuffer`` or typed array: what a byte stream may carry on Cloudflare."""
    return isinstance(value, (ArrayBuffer, Uint8Array))


def js_type_name(value: Any) -> str | None:
    """The JS class name of ``value`` as the SDK reads it, or None for a Python object."""
    constructor = getattr(value, "constructor", None)
    name = getattr(constructor, "name", None)
    if isinstance(name, str):
        return name
    # The runtime's own byte streams (R2 bodies, AI streams) are ReadableStreams on Cloudflare.
    if hasattr(value, "locked") and hasattr(value, "__aiter__"):
        return "ReadableStream"
    return None
