"""``env.AI``: Workers AI's ``run(model, inputs)`` on local models.

Text generation returns ``{"response", "usage"}`` (``response`` is the parsed value under a
JSON ``response_format``, as on Cloudflare) or, with ``stream``, a byte stream of server-sent
events: ``data: {"response": "<piece>"}`` per piece, one last event with ``usage``, then
``data: [DONE]``. Embeddings return ``{"shape": [n, dim], "data": [[...]], "pooling": "mean"}``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from wranglerpy.ai import deps

deps.require(deps.RUNTIME)  # a clear reason for the stand-in binding when the extra is missing

from wranglerpy.ai import inputs as check  # noqa: E402
from wranglerpy.ai import responses_api  # noqa: E402
from wranglerpy.ai.guided import grammar_for  # noqa: E402
from wranglerpy.ai.json_close import closing_suffix  # noqa: E402
from wranglerpy.ai.json_refs import SchemaRefs  # noqa: E402
from wranglerpy.ai.models import LocalModel, ModelTable  # noqa: E402
from wranglerpy.ai.service import ModelService, default_service  # noqa: E402
from wranglerpy.ai.text import TextEvents, TextRequest, TextResult  # noqa: E402
from wranglerpy.config.schema import AIBinding  # noqa: E402
from wranglerpy.errors import AIError  # noqa: E402
from wranglerpy.jsobject import JSObject, as_js_object, options  # noqa: E402


def sse(payload: Any) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


class AIStream:
    """The SSE byte stream of one generation. Closing it (or abandoning it) stops generating."""

    def __init__(self, events: TextEvents, schema: dict[str, Any] | None = None) -> None:
        self._events = events
        self._schema = schema  # JSON mode: finish a value that max_tokens cut off
        self._chunks = self._produce()
        self.locked = False

    async def _produce(self) -> AsyncGenerator[bytes, None]:
        text = ""
        try:
            async for item in self._events:
                if isinstance(item, TextResult):
                    tail = closing_suffix(text, self._schema) if self._schema else None
                    if tail:
                        yield sse({"response": tail})
                    yield sse({"response": "", "usage": item.usage})
                else:
                    text += item
                    yield sse({"response": item})
            yield b"data: [DONE]\n\n"
        finally:
            await self._events.aclose()

    def __aiter__(self) -> AIStream:
        return self

    async def __anext__(self) -> bytes:
        self.locked = True
        return await self._chunks.__anext__()

    async def read_all(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        await self._chunks.aclose()
        await self._events.aclose()  # also when reading never started

    cancel = aclose


class AI:
    def __init__(
        self, table: ModelTable, engine: Callable[[], ModelService] = default_service
    ) -> None:
        self._table = table
        self._engine = engine

    async def run(self, model: str, inputs: Any = None, opts: Any = None, **kwargs: Any) -> Any:
        """Run ``model`` on ``inputs`` (a dict, or keyword arguments). ``opts`` (gateway, ...) is accepted and ignored."""
        del opts  # AI Gateway options have no local meaning
        try:
            given = options(inputs, **kwargs)
        except TypeError as exc:
            raise check.bad(str(exc)) from None
        local = self._table.resolve(model)
        if local.task == "text-embeddings":
            return await self._embed(local, given)
        if model in responses_api.RESPONSES_MODELS:
            return await self._respond(model, local, given)
        return await self._generate(local, given)

    async def _respond(self, model: str, local: LocalModel, given: dict[str, Any]) -> JSObject:
        if given.get("stream"):
            raise check.bad(
                f"streaming {model} (Responses API events) is not supported locally; "
                "call it without stream, or stream a chat model such as @cf/meta/llama-3.1-8b-instruct"
            )
        request = TextRequest(
            params=responses_api.sampling_params(given),
            messages=responses_api.request_messages(given),
        )
        result = await self._engine().complete(local, request)
        answer = responses_api.response_object(
            model,
            result.text,
            result.usage,
            truncated=result.generation.finish_reason == "length",
        )
        return as_js_object(answer)

    async def _embed(self, local: LocalModel, given: dict[str, Any]) -> JSObject:
        texts = check.embedding_texts(given)
        vectors = await self._engine().embed(local, texts)
        return as_js_object(
            {"shape": list(vectors.shape), "data": vectors.tolist(), "pooling": "mean"}
        )

    async def _generate(self, local: LocalModel, given: dict[str, Any]) -> Any:
        messages = check.chat_messages(given)
        schema = check.response_schema(given)
        request = TextRequest(
            params=check.sampling_params(given),
            messages=messages,
            prompt=given.get("prompt") if messages is None else None,
            raw=bool(given.get("raw", False)),
            schema=schema,
        )
        if schema is not None:
            # Refused before generating: a $ref that cannot be followed, a schema llguidance
            # cannot compile.
            SchemaRefs(schema).check()
            grammar_for(schema)
        engine = self._engine()
        if given.get("stream"):
            events = engine.stream(local, request)
            await events.accepted()  # the capacity error comes from run(), as on Cloudflare
            return AIStream(events, schema)
        result = await engine.complete(local, request)
        response: Any = result.text
        if schema is not None:
            # max_tokens may cut the value off: finish it so it always parses.
            text = result.text + (closing_suffix(result.text, schema) or "")
            try:
                response = json.loads(text)
            except ValueError:
                raise AIError(
                    f"AiError: 5024: JSON Mode couldn't be met: the answer was cut off after {len(result.generation.token_ids)} tokens; raise max_tokens"
                ) from None
        return as_js_object({"response": response, "usage": result.usage})


def create(config: AIBinding, persist_dir: Path) -> AI:
    """The binding for a worker; models live in the user cache, not ``persist_dir``."""
    del persist_dir
    return AI(ModelTable(config.models))
