"""``HTMLRewriter``: Cloudflare's streaming HTML rewriting API for worker code.

``transform(response)`` returns a new response at once; its body is rewritten chunk by chunk
as it is read, so the whole document is never held in memory. As on Cloudflare, the
content-type is not checked (any body is parsed as HTML); it only gives the charset.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from typing import Any

from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.htmlrewriter.engine import Engine
from wranglerpy.runtime.htmlrewriter.selector import Selector
from wranglerpy.runtime.request_response import Response

_NULL_BODY_STATUSES = (101, 204, 205, 304)


def _charset(content_type: str | None) -> str:
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            try:
                return codecs.lookup(value.strip().strip("\"'")).name
            except LookupError:
                break
    return "utf-8"


class HTMLRewriter:
    """``HTMLRewriter()`` (or ``HTMLRewriter.new()``, as from ``js``), then ``.on(selector,
    handler)`` / ``.onDocument(handler)`` (both chainable) and ``.transform(response)``."""

    def __init__(self) -> None:
        self._element_handlers: list[tuple[Selector, Any]] = []
        self._document_handlers: list[Any] = []

    @staticmethod
    def new() -> HTMLRewriter:
        return HTMLRewriter()

    def on(self, selector: str, handler: Any) -> HTMLRewriter:
        self._element_handlers.append((Selector(str(selector)), handler))
        return self

    def onDocument(self, handler: Any) -> HTMLRewriter:  # noqa: N802 - the JS name
        self._document_handlers.append(handler)
        return self

    def transform(self, response: Any) -> Response:
        if not isinstance(response, Response):
            raise TypeError(
                f"HTMLRewriter.transform() expects a Response, got {type(response).__name__}"
            )
        headers = Headers(response.headers)
        headers.delete("content-length")  # the rewritten body has another length
        body = response.body
        if body is None or response.status in _NULL_BODY_STATUSES:
            return Response(
                None, status=response.status, headers=headers, statusText=response.statusText
            )
        engine = Engine(self._element_handlers, self._document_handlers)
        stream = _rewrite(engine, body, _charset(headers.get("content-type")))
        return Response(
            stream, status=response.status, headers=headers, statusText=response.statusText
        )


async def _rewrite(
    engine: Engine, body: AsyncIterator[bytes], charset: str
) -> AsyncIterator[bytes]:
    # Bytes that are not valid in the charset survive the round trip as surrogates.
    decoder = codecs.getincrementaldecoder(charset)(errors="surrogateescape")

    def encode(text: str) -> bytes:
        try:
            return text.encode(charset, "surrogateescape")
        except UnicodeEncodeError:  # inserted content the charset cannot hold
            return text.encode(charset, "xmlcharrefreplace")

    try:
        async for chunk in body:
            out = await engine.feed(decoder.decode(chunk))
            if out:
                yield encode(out)
        out = await engine.feed(decoder.decode(b"", final=True))
        out += await engine.close()
        if out:
            yield encode(out)
    finally:
        aclose = getattr(body, "aclose", None)
        if aclose is not None:
            await aclose()
