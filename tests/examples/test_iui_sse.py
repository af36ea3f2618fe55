"""SSE framing of our protocol and incremental parsing of the AI binding's stream."""

from __future__ import annotations

import json

import pytest

from inference_streaming import sse
from iui_fakes import sse_chunks, sse_events


def test_frames_follow_the_contract() -> None:
    body = (
        sse.message_start("m1", {"model": "x"})
        + sse.message_part("Hé")
        + sse.message_end("m1", "Hé", 5, {})
        + sse.done()
        + sse.error("boom")
    )
    assert body.count(b"\n\n") == 5 and body.startswith(b"data: {")
    start, part, end, done, error = sse_events(body)
    assert start == {
        "type": "message-start",
        "message": {"id": "m1", "role": "assistant", "parts": [], "metadata": {"model": "x"}},
    }
    assert part == {"type": "message-part", "part": {"type": "text", "text": "Hé"}}
    assert end["message"]["parts"] == [{"type": "text", "text": "Hé"}]
    assert end["message"]["createdAt"] == 5 and end["message"]["role"] == "assistant"
    assert done == {"type": "done"}
    assert error == {"type": "error", "error": {"message": "boom"}}


def test_parser_handles_any_chunking() -> None:
    data = b"".join(sse_chunks(["Hel", "lo ", "wörld", " 🌍"], {"prompt_tokens": 3}))
    for size in (1, 2, 3, 7, len(data)):
        parser = sse.AIStreamParser()
        deltas: list[str] = []
        for i in range(0, len(data), size):
            deltas += parser.feed(data[i : i + size])
        deltas += parser.close()
        assert "".join(deltas) == "Hello wörld 🌍"
        assert parser.finished and parser.usage == {"prompt_tokens": 3}


def test_parser_ignores_comments_and_text_after_done() -> None:
    parser = sse.AIStreamParser()
    deltas = parser.feed(': keep-alive\nevent: x\ndata: {"response": "a"}\r\n\r\n')
    deltas += parser.feed('data: [DONE]\n\ndata: {"response": "late"}\n\n')
    assert deltas == ["a"] and parser.finished


def test_parser_final_line_without_newline() -> None:
    parser = sse.AIStreamParser()
    assert parser.feed('data: {"response": "x"}') == []
    assert parser.close() == ["x"]


@pytest.mark.parametrize("line", ["data: not json\n", "data: [1, 2]\n"])
def test_parser_rejects_garbage(line: str) -> None:
    with pytest.raises(sse.AIStreamError):
        sse.AIStreamParser().feed(line)


def test_frame_is_compact_json() -> None:
    assert (
        sse.frame({"a": [1, "é"]})
        == (
            "data: "
            + json.dumps({"a": [1, "é"]}, separators=(",", ":"), ensure_ascii=False)
            + "\n\n"
        ).encode()
    )
