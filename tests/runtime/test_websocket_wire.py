"""The translation between a client WebSocket (ASGI messages) and the worker's wire items that
the edge router and the Ray ingress share (``runtime/websocket_wire``)."""

from __future__ import annotations

from wranglerpy.runtime.websocket_wire import accept, client_item, client_message, refuse
from wranglerpy.wire import frames
from wranglerpy.wire.frames import ResponseHead


def test_client_messages_become_wire_items() -> None:
    assert frames.loads(client_item({"type": "websocket.receive", "text": "hi"})) == [
        "message",
        "hi",
    ]
    item = client_item({"type": "websocket.receive", "bytes": b"\x00\x01"})
    assert frames.loads(item) == ["message", b"\x00\x01"]
    closed = client_item({"type": "websocket.disconnect", "code": 1001, "reason": "bye"})
    assert frames.loads(closed) == ["close", 1001, "bye", True]
    assert client_item({"type": "websocket.connect"}) is None


def test_a_client_that_just_went_is_an_unclean_1006() -> None:
    """No close frame from the client: the worker's close event says ``wasClean`` false."""
    item = client_item({"type": "websocket.disconnect", "code": 1006})
    assert frames.loads(item) == ["close", 1006, "", False]


def test_worker_items_become_client_messages() -> None:
    assert client_message(frames.dumps(["message", "x"])) == {
        "type": "websocket.send",
        "text": "x",
    }
    assert client_message(frames.dumps(["message", b"y"])) == {
        "type": "websocket.send",
        "bytes": b"y",
    }
    # 1005/1006 cannot be sent in a close frame: the client sees a normal close.
    assert client_message(frames.dumps(["close", 1005, None, True])) == {
        "type": "websocket.close",
        "code": 1000,
        "reason": "",
    }
    assert client_message(frames.dumps(["close", 4000, "done", True]))["code"] == 4000


def test_accept_carries_the_workers_subprotocol() -> None:
    head = ResponseHead(101, [(b"Sec-WebSocket-Protocol", b"chat")])
    assert accept(head) == {"type": "websocket.accept", "subprotocol": "chat"}
    assert accept(ResponseHead(101, []))["subprotocol"] is None


async def test_a_refusal_is_an_http_answer_or_a_1008_close() -> None:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await refuse(send, 403, [(b"content-length", b"99"), (b"x-a", b"1")], b"no")
    assert sent[0]["status"] == 403
    assert sent[0]["headers"] == [(b"x-a", b"1"), (b"content-length", b"2")]
    assert sent[1] == {"type": "websocket.http.response.body", "body": b"no"}
    sent.clear()
    await refuse(send, 403, [], b"no", denial_response=False)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "refused (403)"}]
