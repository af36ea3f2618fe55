"""What a text generation takes and gives: plain types shared by the engine, the model host
and its clients. Nothing here loads onnxruntime, so a worker that talks to the shared model
host (client.py) never imports it."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wranglerpy.ai.sampling import SamplingParams


@dataclass
class Generation:
    """Running totals for one request; the engine reads them for ``usage``."""

    prompt_tokens: int
    token_ids: list[int] = field(default_factory=list)
    finish_reason: str = "length"


@dataclass
class TextRequest:
    """A prompt, already validated: chat ``messages`` or a ``prompt`` (``raw``: no template)."""

    params: SamplingParams
    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    raw: bool = False
    # JSON mode: the answer must match this schema (the constraint is built on the
    # generation thread, which has the loaded tokenizer). Plain data, so it can cross
    # processes (client.py).
    schema: dict[str, Any] | None = None


@dataclass
class TextResult:
    text: str
    generation: Generation
    pieces: list[str] = field(default_factory=list)

    @property
    def usage(self) -> dict[str, int]:
        prompt, completion = self.generation.prompt_tokens, len(self.generation.token_ids)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


class TextEvents:
    """Text pieces as they are generated, then one :class:`TextResult`.

    ``cancel()`` (also run by ``aclose()`` and when the object is garbage collected) tells the
    decode loop to stop at its next step. ``accepted()`` returns once the request holds a
    place (or raises the capacity error): at once in-process, after the host's answer over a
    socket.
    """

    def __init__(
        self,
        queue: asyncio.Queue[tuple[str, Any]],
        cancel: Callable[[], None],
        accepted: asyncio.Future[None] | None = None,
    ) -> None:
        self._queue = queue
        self._cancel = cancel
        self._accepted = accepted
        self._finished = False
        weakref.finalize(self, cancel)

    async def accepted(self) -> None:
        if self._accepted is not None:
            await self._accepted

    def cancel(self) -> None:
        self._cancel()

    async def aclose(self) -> None:
        self._finished = True
        self._cancel()

    def __aiter__(self) -> TextEvents:
        return self

    async def __anext__(self) -> str | TextResult:
        if self._finished:
            raise StopAsyncIteration
        try:
            kind, value = await self._queue.get()
        except BaseException:
            self._cancel()  # the reading task was cancelled
            raise
        if kind == "piece":
            return str(value)
        self._finished = True
        if kind == "done":
            assert isinstance(value, TextResult)
            return value
        raise value


async def collect_result(events: TextEvents) -> TextResult:
    """Read a whole generation: its result, with the pieces as they were streamed."""
    pieces: list[str] = []
    result: TextResult | None = None
    try:
        async for item in events:
            if isinstance(item, TextResult):
                result = item
            else:
                pieces.append(item)
    finally:
        events.cancel()
    assert result is not None
    result.pieces = pieces
    return result
