"""A response body that streams on Cloudflare and locally alike: a JS ``ReadableStream`` that
pulls the next chunk from an async iterator of bytes each time the client is ready for one.

(``Response(async_generator)`` is refused on Cloudflare: ``TypeError: Unsupported type in
Response``.) Cancelling the stream (the client went away) closes the iterator, which stops
generation and releases its slot at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from js import ReadableStream
from pyodide.ffi import create_proxy, to_js


def readable(chunks: AsyncIterator[bytes]) -> Any:
    async def pull(controller: Any) -> None:
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            controller.close()
            return
        controller.enqueue(to_js(chunk))  # a Uint8Array: what a byte stream must carry

    async def cancel(reason: Any = None) -> None:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()

    return ReadableStream.new(pull=create_proxy(pull), cancel=create_proxy(cancel))
