"""The Responses-API models (``@cf/openai/gpt-oss-*``): input forms, errors, the answer's shape."""

from __future__ import annotations

import json

import pytest

from wranglerpy.ai.binding import AI
from wranglerpy.ai.responses_api import request_messages, sampling_params
from wranglerpy.errors import AIError

GPT_OSS = "@cf/openai/gpt-oss-120b"


def test_instructions_become_the_system_turn_and_a_string_input_the_user_turn() -> None:
    assert request_messages({"instructions": "Be brief.", "input": "Hi"}) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]


def test_message_items_with_text_parts_are_joined() -> None:
    items = [
        {"role": "developer", "content": "Rules."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}]},
        {"role": "assistant", "content": [{"type": "output_text", "text": "b"}]},
    ]
    assert request_messages({"input": items}) == [
        {"role": "system", "content": "Rules."},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
    ]


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({}, "required properties at '/' are 'input'"),
        ({"input": ""}, "'/input' must NOT have fewer than 1 characters"),
        ({"input": 3}, "Type mismatch of '/input', 'integer'"),
        ({"input": [{"role": "robot", "content": "x"}]}, "'/input/0/role' must be one of"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
            "'/input/0/content/0' must be a text part",
        ),
        ({"input": "x", "instructions": 1}, "Type mismatch of '/instructions'"),
    ],
)
def test_bad_input_is_refused_in_workers_ai_style(inputs: dict[str, object], fragment: str) -> None:
    with pytest.raises(AIError) as caught:
        request_messages(inputs)
    assert str(caught.value).startswith("AiError: 5006: Error: ")
    assert fragment in str(caught.value)


def test_max_output_tokens_limits_generation_and_is_checked() -> None:
    assert sampling_params({"max_output_tokens": 7, "temperature": 0}).max_tokens == 7
    with pytest.raises(AIError, match="'/max_output_tokens' must be between 1 and 8192"):
        sampling_params({"max_output_tokens": 0})


async def test_run_answers_with_a_responses_object(ai: AI) -> None:
    reply = await ai.run(
        GPT_OSS,
        {"instructions": "Be brief.", "input": "the cat", "max_output_tokens": 3, "temperature": 0},
    )
    assert reply.object == "response" and reply.model == GPT_OSS
    message = reply.output[0]
    assert message.type == "message" and message.role == "assistant"
    part = message.content[0]
    assert part.type == "output_text" and isinstance(part.text, str)
    usage = reply.usage
    assert 1 <= usage.output_tokens <= 3
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    # A three-token cap on the tiny model always ends by length, never by end-of-turn.
    assert reply.status == "incomplete"
    assert reply.incomplete_details.reason == "max_output_tokens"
    json.dumps(reply.output)  # what Cloudflare's example returns with Response.json


async def test_streaming_a_responses_model_is_refused_clearly(ai: AI) -> None:
    with pytest.raises(AIError, match="not supported locally"):
        await ai.run(GPT_OSS, {"input": "hi", "stream": True})
