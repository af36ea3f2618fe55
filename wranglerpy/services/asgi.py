"""The little ASGI layer the local services share: a parsed request and a response sender.

S3 needs byte-exact control over paths, headers and streamed bodies (signatures cover them),
which a framework's request object would normalise away; this keeps the raw values.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """The client sent more than the handler allows for this kind of request."""


@dataclass
class Request:
    method: str
    path: str  # percent-decoded
    raw_path: bytes  # as sent (signatures cover this form)
    query: list[tuple[str, str]]  # decoded, in order, blank values kept
    raw_query: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    receive: Receive
    _consumed: bool = field(default=False, repr=False)

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive) -> Request:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        raw_path = raw_path.split(b"?", 1)[0]
        query_string = scope.get("query_string", b"").decode("latin-1")
        return cls(
            method=scope["method"].upper(),
            path=unquote(raw_path.decode("latin-1"), encoding="utf-8", errors="surrogateescape"),
            raw_path=raw_path,
            query=parse_qsl(query_string, keep_blank_values=True),
            raw_query=query_string,
            headers=headers,
            receive=receive,
        )

    def arg(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def has_arg(self, name: str) -> bool:
        return any(key == name for key, _ in self.query)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives; readable once."""
        if self._consumed:
            return
        self._consumed = True
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ConnectionError("the client went away before sending its whole body")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def body(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"body larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterable[bytes] = b""

    def header(self, name: str, value: str) -> Response:
        self.headers.append((name, value))
        return self


async def send_response(send: Send, response: Response, *, head: bool = False) -> None:
    """Send ``response``; for HEAD the headers only (Content-Length still the body's)."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    names = {k for k, _ in headers}
    if isinstance(response.body, bytes) and b"content-length" not in names:
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if head or isinstance(response.body, bytes):
        body = b"" if head else response.body
        await send({"type": "http.response.body", "body": body, "more_body": False})
        closer = getattr(response.body, "aclose", None)
        if head and closer is not None:
            await closer()
        return
    iterator = response.body.__aiter__()
    try:
        async for chunk in iterator:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            await closer()
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def drain(request: Request) -> None:
    """Read and drop what is left of the body (so the connection stays usable)."""
    async for _ in request.stream():
        pass
