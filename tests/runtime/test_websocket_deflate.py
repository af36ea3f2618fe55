"""``SmallMessagesPlain``: small messages leave uncompressed (RSV1 clear), larger ones are
compressed; a real ``permessage-deflate`` client (websockets' own protocol) reads both."""

from __future__ import annotations

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from wranglerpy.runtime.websocket_deflate import (
    MIN_COMPRESSED_SIZE,
    SmallMessagesPlain,
    SmallMessagesPlainFactory,
)


def connected() -> tuple[ClientProtocol, ServerProtocol]:
    client = ClientProtocol(parse_uri("ws://x/"), extensions=[ClientPerMessageDeflateFactory()])
    factory = SmallMessagesPlainFactory(
        server_no_context_takeover=True, client_no_context_takeover=True
    )
    server = ServerProtocol(extensions=[factory])
    client.send_request(client.connect())
    server.receive_data(client.data_to_send()[0])
    (request,) = server.events_received()
    server.send_response(server.accept(request))
    client.receive_data(server.data_to_send()[0])
    client.events_received()
    (extension,) = server.extensions
    assert isinstance(extension, SmallMessagesPlain) and extension.local_no_context_takeover
    return client, server


def test_small_messages_go_plain_and_large_ones_compressed() -> None:
    client, server = connected()
    small = '{"type":"message","text":"hi"}'
    large = "x" * (MIN_COMPRESSED_SIZE * 4)
    server.send_text(small.encode())
    (small_frame,) = server.data_to_send()
    server.send_text(large.encode())
    (large_frame,) = server.data_to_send()
    assert small_frame[0] & 0x40 == 0 and small.encode() in small_frame  # RSV1 clear
    assert large_frame[0] & 0x40 and len(large_frame) < len(large)  # compressed
    server.send_text(small.encode())
    client.receive_data(small_frame + large_frame + server.data_to_send()[0])
    got = [f.data.decode() for f in client.events_received() if isinstance(f, Frame)]
    assert got == [small, large, small]
