"""Request bodies as they reach ``fetch`` from Python on Cloudflare.

The SDK's ``fetch``, a service binding's ``fetch`` and ``pyodide.http.pyfetch`` hand their
options to JS through ``to_js`` (SDK ``fetch.py:16-44``; pyodide ``http.py`` ``pyfetch``), which
leaves a Python generator or async iterator a Python object (a ``PyProxy``). workerd then:

- before ``fetch_iterable_type_support`` (compatibility date 2026-02-19), does not iterate it:
  the object is stringified (workerd ``compatibility-date.capnp:1237-1250``), and the body sent
  is its ``repr()`` (what a ``PyProxy``'s ``toString`` gives) as ``text/plain``;
- from then on, iterates it (``api/http.c++:96-97``, ``ReadableStream.from``), but the chunks
  are Python objects, not bytes, and ``fetch`` fails with ``TypeError: This ReadableStream did
  not return bytes.`` (``api/streams/standard.c++:3428``), unless they are JS buffers
  (``to_js(b)``), which pass.

So it fails here as it fails there: the first chunk is read before the request goes out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from wranglerpy.runtime.buffers import ArrayBuffer, JsType, Uint8Array
from wranglerpy.runtime.streams import NOT_BYTES


def _is_python_iterator(body: Any) -> bool:
    if body is None or isinstance(body, (str, bytes, bytearray, memoryview, JsType)):
        return False
    from wranglerpy.runtime.body import Body

    if isinstance(body, Body):
        return False
    return hasattr(body, "__aiter__") or hasattr(body, "__next__")


async def sdk_request_body(body: Any) -> Any:
    """``body`` as Cloudflare would send it; a JS ``TypeError`` (``JsException``) where its
    fetch would reject."""
    if not _is_python_iterator(body):
        return body
    from wranglerpy.runtime import compat

    if not compat.process().fetch_iterable_type_support:
        return repr(body)
    from wranglerpy.runtime.ffi import JsTypeError

    iterator = _as_async(body)
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        return b""
    if not isinstance(first, (Uint8Array, ArrayBuffer)):
        await _close(iterator)
        raise JsTypeError(NOT_BYTES)
    return _js_chunks(first, iterator)


async def _js_chunks(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    from wranglerpy.runtime.ffi import JsTypeError

    yield bytes(first)
    try:
        async for chunk in rest:
            if not isinstance(chunk, (Uint8Array, ArrayBuffer)):
                raise JsTypeError(NOT_BYTES)  # the body fails mid-way, as its stream would
            yield bytes(chunk)
    finally:
        await _close(rest)


async def _as_async(body: Any) -> AsyncIterator[Any]:
    try:
        if hasattr(body, "__aiter__"):
            async for chunk in body:
                yield chunk
        else:
            for chunk in body:
                yield chunk
    finally:  # closing the body closes its source
        await _close(body)
        close = getattr(body, "close", None)
        if close is not None and not hasattr(body, "aclose"):
            close()


async def _close(iterator: Any) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
