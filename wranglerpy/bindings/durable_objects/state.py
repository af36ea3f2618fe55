"""``ctx`` of a Durable Object (workerd's ``DurableObjectState``, ``api/actor-state.c++``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from wranglerpy.bindings.durable_objects.errors import Error, RangeError
from wranglerpy.bindings.durable_objects.ids import DurableObjectId
from wranglerpy.bindings.durable_objects.storage import ObjectStorage

if TYPE_CHECKING:
    from wranglerpy.bindings.durable_objects.instance import LiveObject

MAX_TAGS_PER_CONNECTION = 10
MAX_TAG_LENGTH = 256
MAX_AUTO_RESPONSE_SIZE = 2048


class DurableObjectAborted(Error):
    """Raised by ``ctx.abort()``: the object is reset, its unflushed writes dropped."""


class DurableObjectState:
    def __init__(
        self, live: LiveObject, object_id: DurableObjectId, storage: ObjectStorage
    ) -> None:
        self._live = live
        self.id = object_id
        self.storage = storage
        self.props: dict[str, Any] = {}

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:  # noqa: N802
        task = asyncio.ensure_future(awaitable)
        self._live.wait_until(task)

    def blockConcurrencyWhile(self, callback: Callable[[], Any]) -> asyncio.Future[Any]:  # noqa: N802
        return self._live.gate.block_while(callback)

    def abort(self, reason: str | None = None, options: Any = None) -> None:
        self._live.abort()
        raise DurableObjectAborted(reason or "Application called abort() to reset Durable Object.")

    # --- hibernatable WebSockets -------------------------------------------------------

    def acceptWebSocket(self, ws: Any, tags: Any = None) -> None:  # noqa: N802
        if ws.is_accepted:
            raise Error(
                "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via "
                "`accept()`"
            )
        if not ws.peer_awaiting_coupling:
            raise Error(
                "Cannot call `acceptWebSocket()` on this WebSocket because its pair has already "
                "been accepted or used in a Response."
            )
        distinct: list[str] = []
        for tag in list(tags or []):
            if len(distinct) >= MAX_TAGS_PER_CONNECTION:
                raise Error(
                    f"a Hibernatable WebSocket cannot have more than {MAX_TAGS_PER_CONNECTION} tags"
                )
            if len(tag) > MAX_TAG_LENGTH:
                raise Error(
                    f'"{tag}" is longer than the max tag length ({MAX_TAG_LENGTH} characters).'
                )
            if tag not in distinct:
                distinct.append(tag)
        self._live.host.sockets.accept(self._live, ws, tuple(distinct))

    def getWebSockets(self, tag: str | None = None) -> list[Any]:  # noqa: N802
        return self._live.host.sockets.of(self._live.key, tag)

    def getTags(self, ws: Any) -> list[str]:  # noqa: N802
        if not ws.is_accepted:
            raise Error(
                "you must call 'acceptWebSocket()' before attempting to access the tags of a "
                "WebSocket."
            )
        if ws.hibernation_sink is None:
            raise Error("only hibernatable websockets can have tags.")
        return list(ws.tags)

    def setWebSocketAutoResponse(self, pair: Any = None) -> None:  # noqa: N802
        if pair is not None:
            for what, text in (("Request", pair.request), ("Response", pair.response)):
                if len(text) > MAX_AUTO_RESPONSE_SIZE:
                    raise RangeError(
                        f"{what} cannot be larger than {MAX_AUTO_RESPONSE_SIZE} bytes. "
                        f"A {what.lower()} of size {len(text)} was provided."
                    )
        self._live.host.sockets.set_auto_response(self._live.key, pair)

    def getWebSocketAutoResponse(self) -> Any:  # noqa: N802
        return self._live.host.sockets.auto_response(self._live.key)

    def getWebSocketAutoResponseTimestamp(self, ws: Any) -> Any:  # noqa: N802
        return ws.auto_response_timestamp

    def setHibernatableWebSocketEventTimeout(self, timeout_ms: int | None = None) -> None:  # noqa: N802
        if timeout_ms is not None and timeout_ms > 604800 * 1000:
            raise Error("Event timeout should not exceed 604800000 ms.")

    def getHibernatableWebSocketEventTimeout(self) -> None:  # noqa: N802
        return None
