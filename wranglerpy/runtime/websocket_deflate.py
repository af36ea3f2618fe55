"""``permessage-deflate`` that leaves small messages uncompressed.

With no context takeover (kept so idle sockets hold no compressor, see host/http_server.py), every
compressed message builds a fresh zlib compressor: for a chat-sized message that costs more
than framing and writing it, and a broadcast pays it once per socket. RFC 7692 lets a sender
choose per message (a message without the RSV1 bit is not compressed, section 6), so messages
under :data:`MIN_COMPRESSED_SIZE` go out as they are; clients cannot tell but by the bit.
Larger messages are compressed as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame, Opcode

MIN_COMPRESSED_SIZE = 1024


class SmallMessagesPlain(PerMessageDeflate):
    """websockets' permessage-deflate, except that small whole messages are sent plain."""

    def encode(self, frame: Frame) -> Frame:
        # Only a whole message (one final frame that starts it) may skip compression.
        plain = frame.fin and frame.opcode in (Opcode.TEXT, Opcode.BINARY)
        if plain and len(frame.data) < MIN_COMPRESSED_SIZE:
            return frame
        return super().encode(frame)


class SmallMessagesPlainFactory(ServerPerMessageDeflateFactory):
    """Negotiates as websockets' server factory does; the extension it hands out is ours."""

    def process_request_params(
        self, params: Sequence[tuple[str, str | None]], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[tuple[str, str | None]], Any]:
        response, negotiated = super().process_request_params(params, accepted_extensions)
        return response, SmallMessagesPlain(
            negotiated.remote_no_context_takeover,
            negotiated.local_no_context_takeover,
            negotiated.remote_max_window_bits,
            negotiated.local_max_window_bits,
            self.compress_settings,
        )
