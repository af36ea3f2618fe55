"""``SmallMessagesPlain``: small messages leave uncompressed (RSV1 clear), larger ones are
compressed; a real ``permessage-deflate`` client (wsproto) reads both."""

from __future__ import annotations

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from wranglerpy.runtime.websocket_deflate import MIN_COMPRESSED_SIZE, SmallMessagesPlain


def connected() -> tuple[WSConnection, WSConnection]:
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(
        client.send(Request(host="x", target="/", extensions=[PerMessageDeflate()]))
    )
    (request,) = server.events()
    assert isinstance(request, Request)
    extension = SmallMessagesPlain(client_no_context_takeover=True, server_no_context_takeover=True)
    client.receive_data(server.send(AcceptConnection(extensions=[extension])))
    (accepted,) = client.events()
    assert isinstance(accepted, AcceptConnection) and accepted.extensions
    return client, server


def test_small_messages_go_plain_and_large_ones_compressed() -> None:
    client, server = connected()
    small = '{"type":"message","text":"hi"}'
    large = "x" * (MIN_COMPRESSED_SIZE * 4)
    small_frame = server.send(TextMessage(data=small))
    large_frame = server.send(TextMessage(data=large))
    assert small_frame[0] & 0x40 == 0 and small.encode() in small_frame  # RSV1 clear
    assert large_frame[0] & 0x40 and len(large_frame) < len(large)  # compressed
    client.receive_data(small_frame + large_frame + server.send(TextMessage(data=small)))
    got = [event.data for event in client.events() if isinstance(event, TextMessage)]
    assert got == [small, large, small]
