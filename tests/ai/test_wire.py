"""The model host's frames: round trips of what crosses the socket, and bad input refused."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from wranglerpy.ai import wire
from wranglerpy.ai.models import SMOLLM2
from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.ai.text import Generation, TextRequest, TextResult
from wranglerpy.errors import AIError


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_frames_round_trip_and_end_cleanly() -> None:
    frames = [{"op": "text", "id": 1, "x": "é"}, {"kind": "done", "id": 1}]
    reader = reader_of(b"".join(wire.encode_frame(f) for f in frames))
    assert [await wire.read_frame(reader), await wire.read_frame(reader)] == frames
    assert await wire.read_frame(reader) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "inside a frame header"),
        (b"\x00\x00\x00\x09{}", "inside a frame"),
        (wire.HEADER.pack(wire.MAX_FRAME + 1), "over the"),
        (wire.HEADER.pack(2) + b"[]", "must be a JSON object"),
    ],
)
async def test_bad_frames_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(wire.WireError, match=message):
        await wire.read_frame(reader_of(data))


def test_requests_results_models_and_vectors_survive_the_trip() -> None:
    request = TextRequest(
        params=SamplingParams(max_tokens=5, temperature=0.3, seed=2),
        messages=[{"role": "user", "content": "hi"}],
        schema={"type": "object"},
    )
    assert wire.request_from_wire(wire.request_to_wire(request)) == request
    assert wire.model_from_wire(wire.model_to_wire(SMOLLM2)) == SMOLLM2
    result = TextResult("ab", Generation(3, [7, 8], "stop"))
    back = wire.result_from_wire(wire.result_to_wire(result))
    assert (back.text, back.generation) == (result.text, result.generation)
    vectors = np.random.default_rng(1).standard_normal((2, 5)).astype(np.float32)
    assert np.array_equal(wire.vectors_from_wire(wire.vectors_to_wire(vectors)), vectors)


def test_errors_keep_their_kind_and_wording() -> None:
    capacity = AIError("AiError: 3040: Capacity temporarily exceeded, please try again.")
    again = wire.error_from_wire(wire.error_to_wire(capacity))
    assert isinstance(again, AIError) and again.message == capacity.message
    assert isinstance(wire.error_from_wire(wire.error_to_wire(ValueError("x"))), ValueError)
    other = wire.error_from_wire(wire.error_to_wire(RuntimeError("boom")))
    assert isinstance(other, AIError) and "RuntimeError: boom" in other.message
