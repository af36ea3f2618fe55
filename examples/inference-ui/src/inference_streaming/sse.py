"""Server-Sent Events both ways: framing our events, and reading the AI binding's stream.

Our protocol (the Inference UI contract) is a sequence of ``data: <json>\\n\\n`` events:
message-start, one message-part per generated piece, message-end, done; or an error event.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
}


def frame(event: dict[str, Any]) -> bytes:
    """One SSE event carrying ``event`` as compact JSON."""
    return (
        b"data: " + json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"
    )


def message_start(message_id: str, metadata: dict[str, Any]) -> bytes:
    return frame(
        {
            "type": "message-start",
            "message": {"id": message_id, "role": "assistant", "parts": [], "metadata": metadata},
        }
    )


def message_part(text: str) -> bytes:
    return frame({"type": "message-part", "part": {"type": "text", "text": text}})


def message_end(message_id: str, text: str, created_at: int, metadata: dict[str, Any]) -> bytes:
    return frame(
        {
            "type": "message-end",
            "message": {
                "id": message_id,
                "role": "assistant",
                "parts": [{"type": "text", "text": text}],
                "createdAt": created_at,
                "metadata": metadata,
            },
        }
    )


def done() -> bytes:
    return frame({"type": "done"})


def error(message: str) -> bytes:
    return frame({"type": "error", "error": {"message": message}})


class AIStreamError(Exception):
    """The AI binding's stream carried something that is not its SSE protocol."""


class AIStreamParser:
    """Incremental reader of Workers AI's stream: ``data: {"response": "..."}`` events ending
    with ``data: [DONE]``. Chunks may split lines and UTF-8 sequences anywhere."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self.finished = False
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: bytes | str) -> list[str]:
        """The text deltas completed by ``chunk``."""
        text = chunk if isinstance(chunk, str) else self._decoder.decode(chunk)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        return self._deltas(lines)

    def close(self) -> list[str]:
        """Deltas left in a final line that had no newline."""
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return self._deltas([rest]) if rest.strip() else []

    def _deltas(self, lines: list[str]) -> list[str]:
        deltas: list[str] = []
        for line in lines:
            line = line.rstrip("\r")
            if self.finished or not line.startswith("data:"):
                continue  # blank separators, comments, event:/id: fields
            payload = line[5:].strip()
            if payload == "[DONE]":
                self.finished = True
                continue
            try:
                data = json.loads(payload)
            except ValueError:
                raise AIStreamError(
                    f"the AI stream sent data that is not JSON: {payload[:80]!r}"
                ) from None
            if not isinstance(data, dict):
                raise AIStreamError(f"the AI stream sent {type(data).__name__}, not an object")
            if isinstance(data.get("usage"), dict):
                self.usage = data["usage"]
            delta = data.get("response")
            if isinstance(delta, str) and delta:
                deltas.append(delta)
        return deltas
