"""Web platform globals of the ``js`` module that are not HTTP: ``crypto``, ``TextEncoder``/
``TextDecoder``, ``atob``/``btoa``, ``AbortController``, ``setTimeout``/``clearTimeout`` and
``queueMicrotask``, with the names and errors workerd gives them."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import inspect
import os
import uuid
from typing import Any

from wranglerpy.runtime.buffers import ArrayBuffer, JsType, Uint8Array

_DIGESTS = {"SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_DIGESTS["MD5"] = "md5"  # workerd accepts MD5 in digest() (non-standard, for legacy code)
MAX_RANDOM_BYTES = 65536


class DOMException(JsType, Exception):
    js_name = "DOMException"

    def __init__(self, message: str, name: str = "Error") -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class SubtleCrypto(JsType):
    js_name = "SubtleCrypto"

    async def digest(self, algorithm: Any, data: Any) -> ArrayBuffer:
        name = algorithm if isinstance(algorithm, str) else getattr(algorithm, "name", None)
        if name is None and isinstance(algorithm, dict):
            name = algorithm.get("name")
        key = _DIGESTS.get(str(name).upper())
        if key is None:
            raise DOMException(f"Unrecognized name: {name}", "NotSupportedError")
        if isinstance(data, str):
            raise TypeError("Failed to execute 'digest': data must be an ArrayBuffer or view.")
        return ArrayBuffer(hashlib.new(key, bytes(data)).digest())


class Crypto(JsType):
    js_name = "Crypto"

    def __init__(self) -> None:
        self.subtle = SubtleCrypto()

    def randomUUID(self) -> str:  # noqa: N802 - the JS name
        return str(uuid.uuid4())

    def getRandomValues(self, array: Any) -> Uint8Array:  # noqa: N802 - the JS name
        """A same-length array of random bytes. Locally typed arrays are immutable, so use the
        return value (which is the array itself on Cloudflare)."""
        size = len(array)
        if size > MAX_RANDOM_BYTES:
            raise DOMException(
                f"The ArrayBufferView's byte length ({size}) exceeds the number of bytes of "
                f"entropy available via this API ({MAX_RANDOM_BYTES})",
                "QuotaExceededError",
            )
        return Uint8Array(os.urandom(size))


class TextEncoder(JsType):
    js_name = "TextEncoder"
    encoding = "utf-8"

    @staticmethod
    def new() -> TextEncoder:
        return TextEncoder()

    def encode(self, text: str = "") -> Uint8Array:
        return Uint8Array(str(text).encode("utf-8", errors="surrogatepass"))


class TextDecoder(JsType):
    js_name = "TextDecoder"

    def __init__(self, label: str = "utf-8", fatal: bool = False) -> None:
        self.encoding = label.lower()
        self.fatal = fatal
        try:
            import codecs

            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f'"{label}" is not a valid encoding.') from None

    @staticmethod
    def new(label: str = "utf-8", options: Any = None, **init: Any) -> TextDecoder:
        fatal = bool(init.get("fatal") or getattr(options, "fatal", False))
        return TextDecoder(label, fatal)

    def decode(self, data: Any = b"", options: Any = None, **init: Any) -> str:
        raw = bytes(data) if data is not None else b""
        if raw.startswith(b"\xef\xbb\xbf") and self.encoding in ("utf-8", "utf8"):
            raw = raw[3:]
        return raw.decode(self.encoding, errors="strict" if self.fatal else "replace")


def btoa(data: Any) -> str:
    text = str(data)
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raise DOMException(
            "Cannot encode string as base64: it contains characters outside the Latin1 range.",
            "InvalidCharacterError",
        ) from None
    return base64.b64encode(raw).decode("ascii")


def atob(data: Any) -> str:
    text = "".join(str(data).split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        raise DOMException(
            "atob() called with invalid base64-encoded data.", "InvalidCharacterError"
        ) from None


class AbortSignal(JsType):
    js_name = "AbortSignal"

    def __init__(self) -> None:
        self.aborted = False
        self.reason: Any = None
        self._listeners: list[Any] = []
        self.onabort: Any = None

    def addEventListener(self, kind: str, listener: Any, *args: Any) -> None:  # noqa: N802
        if kind == "abort":
            self._listeners.append(listener)

    def throwIfAborted(self) -> None:  # noqa: N802 - the JS name
        if self.aborted:
            raise (
                self.reason
                if isinstance(self.reason, BaseException)
                else DOMException(str(self.reason), "AbortError")
            )

    def _abort(self, reason: Any) -> None:
        if self.aborted:
            return
        self.aborted = True
        self.reason = reason
        for listener in [self.onabort, *self._listeners]:
            if listener is not None:
                listener(self)

    @staticmethod
    def abort(reason: Any = None) -> AbortSignal:
        signal = AbortSignal()
        signal._abort(reason or DOMException("This operation was aborted", "AbortError"))
        return signal


class AbortController(JsType):
    js_name = "AbortController"

    def __init__(self) -> None:
        self.signal = AbortSignal()

    @staticmethod
    def new() -> AbortController:
        return AbortController()

    def abort(self, reason: Any = None) -> None:
        self.signal._abort(reason or DOMException("This operation was aborted", "AbortError"))


_timers: dict[int, asyncio.TimerHandle] = {}
_next_timer = [0]


def _run(callback: Any, args: tuple[Any, ...]) -> None:
    result = callback(*args)
    if inspect.isawaitable(result):
        asyncio.ensure_future(result)


def setTimeout(callback: Any, delay: float = 0, *args: Any) -> int:  # noqa: N802 - JS name
    """Run ``callback`` after ``delay`` ms on the worker's event loop; returns the timer id."""
    _next_timer[0] += 1
    timer_id = _next_timer[0]

    def fire() -> None:
        _timers.pop(timer_id, None)
        _run(callback, args)

    loop = asyncio.get_running_loop()
    _timers[timer_id] = loop.call_later(max(0.0, float(delay or 0)) / 1000, fire)
    return timer_id


def clearTimeout(timer_id: Any = None) -> None:  # noqa: N802 - the JS name
    handle = _timers.pop(timer_id, None) if isinstance(timer_id, int) else None
    if handle is not None:
        handle.cancel()


def queueMicrotask(callback: Any) -> None:  # noqa: N802 - the JS name
    asyncio.get_running_loop().call_soon(_run, callback, ())


crypto = Crypto()
