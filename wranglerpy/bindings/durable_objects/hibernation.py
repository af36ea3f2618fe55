"""Hibernatable WebSockets: the sockets an object accepted with ``ctx.acceptWebSocket``.

They belong to the host, not to the instance, so the object can be evicted (hibernate) while
its clients stay connected; the next message constructs it again and calls
``webSocketMessage``. An auto-response pair is answered without waking the object at all.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from wranglerpy.bindings.durable_objects.ids import DurableObjectId
from wranglerpy.runtime.websocket import CLOSED, Item, WebSocket, message_data

if TYPE_CHECKING:
    from wranglerpy.bindings.durable_objects.host import ObjectHost
    from wranglerpy.bindings.durable_objects.instance import LiveObject, ObjectKey


class SocketRegistry:
    def __init__(self, host: ObjectHost) -> None:
        self._host = host
        self._sockets: dict[ObjectKey, list[WebSocket]] = {}
        self._ids: dict[ObjectKey, DurableObjectId] = {}
        self._auto: dict[ObjectKey, Any] = {}
        self._plain: dict[ObjectKey, int] = {}

    def accept(self, live: LiveObject, ws: WebSocket, tags: tuple[str, ...]) -> None:
        key = live.key
        self._ids[key] = live.object_id
        self._sockets.setdefault(key, []).append(ws)
        ws.output_gate = lambda: self._host.flush(key)

        def sink(socket: WebSocket, item: Item) -> None:
            self._incoming(key, socket, item)

        ws.accept_hibernatable(sink, tags)

    def of(self, key: ObjectKey, tag: str | None = None) -> list[WebSocket]:
        return [
            ws
            for ws in self._sockets.get(key, [])
            if ws.readyState != CLOSED and (tag is None or tag in ws.tags)
        ]

    def count(self) -> int:
        return sum(len(v) for v in self._sockets.values())

    def accepted_plain(self, key: ObjectKey, ws: WebSocket) -> None:
        """``ws.accept()`` inside an object: frames wait for its writes, and the object stays
        in memory (its listeners live there) until the socket closes."""
        ws.output_gate = lambda: self._host.flush(key)
        self._plain[key] = self._plain.get(key, 0) + 1

        def closed(event: Any) -> None:
            self._plain[key] = max(0, self._plain.get(key, 0) - 1)

        ws.addEventListener("close", closed)

    def keeps_alive(self, key: ObjectKey) -> bool:
        """Sockets accepted with ``accept()`` (not hibernatable) pin the object in memory."""
        return self._plain.get(key, 0) > 0

    def set_auto_response(self, key: ObjectKey, pair: Any) -> None:
        if pair is None:
            self._auto.pop(key, None)
        else:
            self._auto[key] = pair

    def auto_response(self, key: ObjectKey) -> Any:
        return self._auto.get(key)

    def _incoming(self, key: ObjectKey, ws: WebSocket, item: Item) -> None:
        pair = self._auto.get(key)
        if item[0] == "message" and pair is not None and item[1] == pair.request:
            ws.auto_response_timestamp = _dt.datetime.now(_dt.timezone.utc)
            ws.send(pair.response)
            return
        if item[0] == "message":
            args: tuple[Any, ...] = (ws, message_data(item[1]))
            handler = "webSocketMessage"
        elif item[0] == "close":
            args = (ws, item[1], item[2], item[3])
            handler = "webSocketClose"
        else:
            args = (ws, item[1])
            handler = "webSocketError"
        self._host.spawn(self._deliver(key, ws, handler, args, item[0] == "close"))

    async def _deliver(
        self, key: ObjectKey, ws: WebSocket, handler: str, args: tuple[Any, ...], closing: bool
    ) -> None:
        try:
            await self._host.run_event(
                key[0], self._ids[key], handler, lambda inst: _call(inst, handler, args)
            )
        except Exception as exc:  # noqa: BLE001 - reported like an uncaught handler error
            self._host.report_error(exc)
        finally:
            if closing:
                sockets = self._sockets.get(key, [])
                if ws in sockets:
                    sockets.remove(ws)
                if not sockets:
                    self._sockets.pop(key, None)


def _call(instance: Any, handler: str, args: tuple[Any, ...]) -> Any:
    method = getattr(instance, handler, None)
    if method is None:
        return None
    return method(*args)
