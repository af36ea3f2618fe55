"""JSON mode on llguidance: answers match the schema, including what the old prefix parser
did not enforce (pattern, format, additionalProperties); wranglerpy's caps; Workers AI's errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.ai.generate import Generation, TextModel
from wranglerpy.ai.guided import MAX_STRING, JsonGuide, capped, grammar_for
from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.errors import AIError

jsonschema = pytest.importorskip("jsonschema")

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "age": {"type": "integer", "minimum": 18, "maximum": 99},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 2},
        "kind": {"enum": ["cat", "dog"]},
    },
    "required": ["name", "age"],
}

# What the README said was not enforced before llguidance.
STRICT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
        "day": {"type": "string", "format": "date"},
        "id": {"type": "string", "format": "uuid"},
    },
    "required": ["code", "day", "id"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> TextModel:
    return TextModel(tiny_model_dir)


def generate(model: TextModel, schema: dict[str, Any], seed: int, max_tokens: int = 400) -> Any:
    ids = model.encode(model.template.render([{"role": "user", "content": "the cat"}]))
    state = Generation(len(ids))
    params = SamplingParams(max_tokens=max_tokens, temperature=1.0, seed=seed)
    list(model.tokens(ids, params, constraint=JsonGuide(model, schema), state=state))
    assert state.finish_reason == "stop", model.decode(state.token_ids)
    return json.loads(model.decode(state.token_ids))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_tiny_model_writes_valid_json(model: TextModel, seed: int) -> None:
    """Random weights pick almost any allowed token: the mask alone keeps the answer valid."""
    jsonschema.validate(generate(model, PERSON, seed), PERSON)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pattern_format_and_additional_properties_are_enforced(model: TextModel, seed: int) -> None:
    value = generate(model, STRICT, seed)
    assert set(value) == {"code", "day", "id"}
    assert re.fullmatch(r"[A-Z]{3}-[0-9]{2}", value["code"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value["day"])
    assert re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", value["id"])


def test_strings_without_max_length_are_capped() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "free": {"type": "string"},
            "short": {"type": "string", "maxLength": 3},
            "either": {"type": ["string", "null"]},
            "pick": {"type": "string", "enum": ["a", "b"]},
        },
        "$defs": {"Nested": {"type": "array", "items": {"type": "string"}}},
    }
    out = capped(schema)
    props = out["properties"]
    assert props["free"]["maxLength"] == MAX_STRING
    assert props["short"]["maxLength"] == 3
    assert props["either"]["maxLength"] == MAX_STRING
    assert "maxLength" not in props["pick"]
    assert out["$defs"]["Nested"]["items"]["maxLength"] == MAX_STRING
    assert out["additionalProperties"] is False  # it lists its properties and says no more
    assert "additionalProperties" not in capped({"type": "object"})  # any object: any keys
    open_map = {"type": "object", "properties": {}, "additionalProperties": {"type": "integer"}}
    assert capped(open_map)["additionalProperties"] == {"type": "integer"}
    assert "maxLength" not in schema["properties"]["free"]  # the caller's schema is untouched


def test_a_long_free_string_stays_within_the_cap(model: TextModel) -> None:
    schema = {"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]}
    for seed in (4, 5):
        value = generate(
            model, schema, seed, max_tokens=MAX_STRING + 150
        )  # the tiny model has 512 positions
        assert len(value["s"]) <= MAX_STRING


def test_whitespace_cannot_run_on(model: TextModel) -> None:
    """Between tokens: a few spaces or one newline and an indent, never tabs or long runs."""
    for seed in (6, 7, 8):
        ids = model.encode(model.template.render([{"role": "user", "content": "x"}]))
        state = Generation(len(ids))
        params = SamplingParams(max_tokens=400, temperature=1.5, seed=seed)
        guide = JsonGuide(model, PERSON)
        list(model.tokens(ids, params, constraint=guide, state=state))
        text = model.decode(state.token_ids)
        outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # whitespace inside strings is data
        assert "\t" not in outside and "\r" not in outside
        assert all(len(run) <= 12 for run in re.findall(r"[ \n]+", outside))
        assert all(run.count("\n") <= 1 for run in re.findall(r"[ \n]+", outside))


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "strin"}}},
        {"type": "string", "pattern": "(unclosed"},
    ],
)
def test_schemas_llguidance_refuses_fail_like_workers_ai(schema: dict[str, Any]) -> None:
    with pytest.raises(AIError, match=r"^AiError: 5006: Error: '/response_format/json_schema'"):
        grammar_for(schema)


async def test_the_binding_refuses_them_before_generating(ai: Any) -> None:
    bad_schema = {"type": "object", "properties": {"a": {"type": "strin"}}}
    with pytest.raises(AIError, match="5006"):
        await ai.run(
            "@cf/meta/llama-3.1-8b-instruct",
            {
                "prompt": "x",
                "response_format": {"type": "json_schema", "json_schema": bad_schema},
            },
        )
