from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.ai.constrained import JsonConstraint, Status, check
from wranglerpy.ai.generate import Generation, TextModel
from wranglerpy.ai.sampling import SamplingParams

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "kind": {"enum": ["cat", "dog"]},
        "score": {"type": ["number", "null"]},
    },
    "required": ["name", "age"],
}


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("", Status.PARTIAL),
        ("{", Status.PARTIAL),
        ('{"na', Status.PARTIAL),
        ('{"nx', Status.INVALID),
        ('{"name": "Bo"}', Status.INVALID),  # age is required
        ('{"name": "Bo", "age": 3', Status.PARTIAL),
        ('{"name": "Bo", "age": 3}', Status.COMPLETE),
        ('{"name": "Bo", "age": 3.5}', Status.INVALID),
        ('{"name": "Bo", "age": 03}', Status.INVALID),
        ('{"name": "Bo", "name": "Al"', Status.INVALID),  # duplicate key
        ('{"name": "B\\u00', Status.PARTIAL),
        ('{"name": "B\\x', Status.INVALID),
        ('{"name": "Bo", "age": 3, "tags": ["a",]', Status.INVALID),
        ('{"name": "Bo", "age": 3, "tags": ["a", "b", "c"]', Status.INVALID),  # maxItems
        ('{"name": "Bo", "age": 3, "kind": "ca', Status.PARTIAL),
        ('{"name": "Bo", "age": 3, "kind": "cow"', Status.INVALID),
        ('{"name": "Bo", "age": 3, "score": null}', Status.COMPLETE),
        ('{"name": "Bo", "age": 3, "score": -1.5e3}', Status.COMPLETE),
        ('{"name": "Bo", "age": 3} trailing', Status.INVALID),
        ('{\n  "name": "Bo",\n  "age": 3\n}', Status.COMPLETE),
        ("{\t", Status.INVALID),
        ("Sure! {", Status.INVALID),
    ],
)
def test_check(text: str, status: Status) -> None:
    assert check(text, PERSON) is status


def test_a_comma_needs_a_key_left() -> None:
    small = {"type": "object", "properties": {"a": {"type": "boolean"}}}
    assert check('{"a": true', small) is Status.PARTIAL
    assert check('{"a": true,', small) is Status.INVALID
    assert check('{"a": true}', small) is Status.COMPLETE


def test_any_json_when_the_schema_says_nothing() -> None:
    assert check('{"x": [1, {"y": null}], "z": "w"}', {}) is Status.COMPLETE
    assert check("[true, false", {}) is Status.PARTIAL


def test_strings_are_capped() -> None:
    schema = {"type": "string", "maxLength": 3}
    assert check('"abc"', schema) is Status.COMPLETE
    assert check('"abcd', schema) is Status.INVALID


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_tiny_model_writes_valid_json(tiny_model_dir: Path, seed: int) -> None:
    """Random weights write one byte per token: capped strings keep the answer within budget."""
    schema = json.loads(json.dumps(PERSON))
    schema["properties"]["name"]["maxLength"] = 12
    schema["properties"]["tags"]["items"]["maxLength"] = 8
    model = TextModel(tiny_model_dir)
    ids = model.encode(model.template.render([{"role": "user", "content": "the cat"}]))
    state = Generation(len(ids))
    params = SamplingParams(max_tokens=400, temperature=1.0, seed=seed)
    list(model.tokens(ids, params, constraint=JsonConstraint(model, schema), state=state))
    value = json.loads(model.decode(state.token_ids))
    assert state.finish_reason == "stop"
    assert isinstance(value["name"], str) and isinstance(value["age"], int)


@pytest.mark.slow
@pytest.mark.parametrize(
    "schema",
    [
        PERSON,
        {
            "type": "array",
            "items": {"enum": ["red", "green", "blue"]},
            "minItems": 1,
            "maxItems": 3,
        },
        {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "steps": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["title", "steps"],
        },
    ],
)
async def test_real_model_answers_validate(schema: dict[str, Any]) -> None:
    from wranglerpy.ai.binding import create
    from wranglerpy.ai.cache import ModelCache
    from wranglerpy.ai.models import SMOLLM2
    from wranglerpy.config.schema import AIBinding

    jsonschema = pytest.importorskip("jsonschema")
    if not ModelCache().is_cached(SMOLLM2):
        pytest.skip(f"{SMOLLM2.name} is not cached; run `wranglerpy ai pull {SMOLLM2.name}`")
    ai = create(AIBinding(binding="AI"), Path("."))
    messages = [{"role": "user", "content": "Describe a person who likes colours, as JSON."}]
    result = await ai.run(
        "@cf/meta/llama-3.1-8b-instruct",
        {
            "messages": messages,
            "max_tokens": 96,
            "seed": 7,
            "response_format": {"type": "json_schema", "json_schema": schema},
        },
    )
    jsonschema.validate(result["response"], schema)
