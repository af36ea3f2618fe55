"""``runtime/subrequests.py``: what a counted binding hands back stays usable as it was."""

from __future__ import annotations

from wranglerpy.ai.binding import AIStream
from wranglerpy.config.limits import Limits
from wranglerpy.runtime import limits
from wranglerpy.runtime.subrequests import Counted, makes_calls


async def _events():
    yield "Hel"
    yield "lo"


class StreamingAI:
    async def run(self, model: str, inputs: dict) -> AIStream:
        return AIStream(_events())  # type: ignore[arg-type]


async def test_a_streamed_ai_answer_is_counted_once_and_stays_async_iterable() -> None:
    """The example's streaming worker reads `env.AI.run(..., stream=True)` with `async for`;
    wrapped as a binding object it had no __aiter__ and every chat answer failed."""
    assert not makes_calls(AIStream(_events()))  # type: ignore[arg-type]
    with limits.invocation_of(Limits(subrequests=1)) as invocation:
        stream = await Counted(StreamingAI()).run("@cf/x", {"stream": True})
        chunks = [chunk async for chunk in stream]
    assert chunks[0] == b'data: {"response": "Hel"}\n\n'
    assert invocation.subrequests == 1
