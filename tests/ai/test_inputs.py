from __future__ import annotations

import pytest

from wranglerpy.ai import inputs
from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.errors import AIError


def test_sampling_params_defaults_and_values() -> None:
    assert inputs.sampling_params({}) == SamplingParams()
    got = inputs.sampling_params(
        {
            "max_tokens": 9,
            "temperature": 0,
            "top_p": 0.5,
            "top_k": 3,
            "seed": 7,
            "repetition_penalty": 1.1,
        }
    )
    assert got == SamplingParams(
        max_tokens=9, temperature=0, top_p=0.5, top_k=3, seed=7, repetition_penalty=1.1
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"max_tokens": 0}, "'/max_tokens' must be between 1 and"),
        ({"max_tokens": 1.5}, "Type mismatch of '/max_tokens', 'number' not in 'integer'"),
        ({"temperature": True}, "Type mismatch of '/temperature', 'boolean' not in 'number'"),
        ({"top_k": 51}, "'/top_k' must be between 0 and 50"),
    ],
)
def test_bad_numbers(given: dict[str, object], message: str) -> None:
    with pytest.raises(AIError, match="AiError: 5006: Error: ") as caught:
        inputs.sampling_params(given)
    assert message in str(caught.value)


def test_response_format_variants() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert inputs.response_schema({}) is None
    assert inputs.response_schema({"response_format": {"type": "json_object"}}) == {
        "type": "object"
    }
    assert (
        inputs.response_schema({"response_format": {"type": "json_schema", "json_schema": schema}})
        == schema
    )
    wrapped = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert inputs.response_schema({"response_format": wrapped}) == schema
    with pytest.raises(AIError, match="required properties at '/response_format'"):
        inputs.response_schema({"response_format": {"type": "json_schema"}})


def test_embedding_texts() -> None:
    assert inputs.embedding_texts({"text": "a"}) == ["a"]
    assert inputs.embedding_texts({"text": ["a", "b"]}) == ["a", "b"]
    with pytest.raises(AIError, match="fewer than 1 items"):
        inputs.embedding_texts({"text": []})
    with pytest.raises(AIError, match="more than 100 items"):
        inputs.embedding_texts({"text": ["a"] * 101})


def test_messages_are_checked_one_by_one() -> None:
    assert inputs.chat_messages({"prompt": "hi"}) is None
    assert inputs.chat_messages({"messages": [{"role": "user", "content": "x", "extra": 1}]}) == [
        {"role": "user", "content": "x"}
    ]
    with pytest.raises(AIError, match="'/messages/1/content', 'integer' not in 'string'"):
        inputs.chat_messages(
            {"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": 1}]}
        )
    with pytest.raises(AIError, match="'/prompt' must NOT have fewer than 1 characters"):
        inputs.chat_messages({"prompt": ""})
