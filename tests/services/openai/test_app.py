"""The openai package against the OpenAI-compatible app, over the real AI binding with the
tiny test models (the slow twin in test_real_model.py uses the real ones)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

CHAT = "@cf/meta/llama-3.1-8b-instruct"
EMBED = "@cf/baai/bge-small-en-v1.5"
MESSAGES: Any = [{"role": "user", "content": "hello"}]


async def test_models_list_cloudflare_names(client: openai.AsyncOpenAI) -> None:
    names = [m.id async for m in client.models.list()]
    assert CHAT in names and EMBED in names
    assert (await client.models.retrieve(CHAT)).id == CHAT
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("@cf/nobody/nothing")


async def test_chat_stream_equals_whole_answer(client: openai.AsyncOpenAI) -> None:
    whole = await client.chat.completions.create(
        model=CHAT,
        messages=MESSAGES,
        max_tokens=6,
        temperature=0,
    )
    choice = whole.choices[0]
    assert whole.object == "chat.completion" and choice.message.role == "assistant"
    assert whole.usage is not None and whole.usage.completion_tokens <= 6
    expected = "length" if whole.usage.completion_tokens == 6 else "stop"
    assert choice.finish_reason == expected
    stream = await client.chat.completions.create(
        model=CHAT,
        messages=MESSAGES,
        max_tokens=6,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == choice.message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == expected
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage


async def test_json_schema_response_format(client: openai.AsyncOpenAI) -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
    }
    answer = await client.chat.completions.create(
        model=CHAT,
        messages=MESSAGES,
        max_tokens=20,
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}},
    )
    value = json.loads(answer.choices[0].message.content or "")
    assert isinstance(value["ok"], bool)


async def test_completions_whole_and_streamed(client: openai.AsyncOpenAI) -> None:
    whole = await client.completions.create(model=CHAT, prompt="abc", max_tokens=5, temperature=0)
    assert whole.object == "text_completion"
    stream = await client.completions.create(
        model=CHAT, prompt="abc", max_tokens=5, temperature=0, stream=True
    )
    text = "".join([c.choices[0].text async for c in stream])
    assert text == whole.choices[0].text


async def test_embeddings_float_and_base64(client: openai.AsyncOpenAI) -> None:
    floats = await client.embeddings.create(model=EMBED, input=["a", "b"], encoding_format="float")
    packed = await client.embeddings.create(model=EMBED, input=["a", "b"])  # base64 by default
    assert [d.index for d in floats.data] == [0, 1]
    for plain, decoded in zip(floats.data, packed.data, strict=True):
        assert decoded.embedding == pytest.approx(plain.embedding, abs=1e-6)


async def test_errors_in_openai_shape(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(model="@cf/no/such", messages=MESSAGES)
    with pytest.raises(openai.BadRequestError, match="text-embeddings model"):
        await client.chat.completions.create(model=EMBED, messages=MESSAGES)
    with pytest.raises(openai.BadRequestError, match="tools is not supported"):
        await client.chat.completions.create(
            model=CHAT,
            messages=MESSAGES,
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        )
    with pytest.raises(openai.BadRequestError, match="max_tokens"):  # the binding's own check
        await client.chat.completions.create(model=CHAT, messages=MESSAGES, max_tokens=0)


async def test_responses_for_gpt_oss(client: openai.AsyncOpenAI) -> None:
    """Workers AI's /v1/responses takes its gpt-oss models (the local chat model answers)."""
    reply = await client.responses.create(
        model="@cf/openai/gpt-oss-120b", input="hi", instructions="Be brief.", max_output_tokens=5
    )
    assert reply.object == "response" and reply.output[0].type == "message"
    assert reply.usage is not None and reply.usage.output_tokens <= 5
    with pytest.raises(openai.BadRequestError, match="gpt-oss"):
        await client.responses.create(model=CHAT, input="hi")
