"""Binding calls counted as subrequests (``runtime/subrequests.py``): what a binding hands out
for further calls is wrapped, a stream it returns is not (``async for`` must still work on
the AI binding's ``stream: true`` answer, as on Cloudflare: ``ai-api.ts`` returns a
ReadableStream)."""

from wranglerpy.ai.binding import AIStream
from wranglerpy.runtime.subrequests import makes_calls


def test_a_stream_a_binding_returns_is_data_not_a_call_maker() -> None:
    assert not makes_calls(object.__new__(AIStream))


def test_an_object_with_async_methods_still_makes_calls() -> None:
    class Statement:
        async def run(self) -> None: ...

    assert makes_calls(Statement())
