"""``permessage-deflate`` that leaves small messages uncompressed.

With no context takeover (kept so idle sockets hold no compressor, see websocket_asgi.py),
every compressed message builds a fresh zlib compressor: for a chat-sized message that costs
more than framing and writing it, and a broadcast pays it once per socket. RFC 7692 lets a
sender choose per message (a message without the RSV1 bit is not compressed, section 6), so
messages under :data:`MIN_COMPRESSED_SIZE` go out as they are; clients cannot tell but by the
bit. Larger messages are compressed as before.
"""

from __future__ import annotations

from typing import Any

from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode, RsvBits

MIN_COMPRESSED_SIZE = 1024


class SmallMessagesPlain(PerMessageDeflate):
    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        # Only a whole message (one final frame that starts it) may skip compression.
        if fin and opcode in (Opcode.TEXT, Opcode.BINARY) and len(data) < MIN_COMPRESSED_SIZE:
            return rsv, data
        return super().frame_outbound(proto, opcode, rsv, data, fin)
