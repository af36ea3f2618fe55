from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wranglerpy.ai.constrained import Status, check
from wranglerpy.ai.json_refs import SchemaRefs
from wranglerpy.errors import AIError

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
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 2},
                "age": {"type": "integer", "minimum": 18, "maximum": 99},
                "pet": {"$ref": "#/$defs/Pet"},
            },
            "required": ["name", "age", "pet"],
            "$defs": {"Pet": {"enum": ["cat", "dog"]}},
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


AGE = {"type": "integer", "minimum": 18, "maximum": 99}


def _in_array(text: str, item: dict[str, Any]) -> Status:
    """Numbers end at a delimiter, so they are checked as array items."""
    return check("[" + text, {"type": "array", "items": item})


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("1", Status.PARTIAL),  # may become 18 or 19
        ("10", Status.INVALID),  # 10, 100..109, ... are all out of range
        ("17]", Status.INVALID),
        ("18]", Status.COMPLETE),
        ("99]", Status.COMPLETE),
        ("100", Status.INVALID),
        ("-", Status.INVALID),  # no negative number is >= 18
        ("5", Status.PARTIAL),  # 50..59
        ("5]", Status.INVALID),
    ],
)
def test_integer_bounds_prune_prefixes_that_cannot_end_in_range(text: str, status: Status) -> None:
    assert _in_array(text, AGE) is status


def test_number_bounds_with_fractions_exclusive_limits_and_multiples() -> None:
    unit = {"type": "number", "minimum": 0, "exclusiveMaximum": 1}
    assert _in_array("0.5]", unit) is Status.COMPLETE
    assert _in_array("0.", unit) is Status.PARTIAL
    assert _in_array("1", unit) is Status.INVALID  # 1, 1.x, 10... are all >= 1
    assert _in_array("0.5e1", unit) is Status.INVALID  # no exponents under a range
    assert _in_array("-0.1", unit) is Status.INVALID
    assert _in_array("-0", unit) is Status.PARTIAL  # -0 is 0
    even = {"type": "integer", "multipleOf": 2}
    assert _in_array("4]", even) is Status.COMPLETE and _in_array("5]", even) is Status.INVALID
    draft4 = {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert _in_array("0]", draft4) is Status.INVALID
    assert _in_array("0.1]", draft4) is Status.COMPLETE


def test_min_length_keeps_a_string_open() -> None:
    schema = {"type": "string", "minLength": 2}
    assert check('"a"', schema) is Status.INVALID
    assert check('"ab"', schema) is Status.COMPLETE


PYDANTIC_STYLE: dict[str, Any] = {
    "$defs": {
        "Pet": {
            "type": "object",
            "properties": {"kind": {"enum": ["cat", "dog"]}},
            "required": ["kind"],
        }
    },
    "type": "object",
    "properties": {
        "pet": {"$ref": "#/$defs/Pet"},
        "owner": {"allOf": [{"$ref": "#/$defs/Pet"}], "description": "merged with its ref"},
    },
    "required": ["pet"],
}


def test_local_refs_and_all_of_are_followed() -> None:
    assert check('{"pet": {"kind": "cat"}}', PYDANTIC_STYLE) is Status.COMPLETE
    assert check('{"pet": {"kind": "cow"', PYDANTIC_STYLE) is Status.INVALID
    assert check('{"pet": {}}', PYDANTIC_STYLE) is Status.INVALID  # Pet requires kind
    assert check('{"pet": {"kind": "dog"}, "owner": {"kind": "cat"}}', PYDANTIC_STYLE) is (
        Status.COMPLETE
    )


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("https://example.com/s.json", "points outside the schema"),
        ("#/$defs/Nope", "points at nothing"),
    ],
)
def test_refs_that_cannot_be_followed_are_refused_before_generating(
    ref: str, fragment: str
) -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": ref}}}
    with pytest.raises(AIError, match=fragment):
        SchemaRefs(schema).check()


def test_a_ref_cycle_is_refused() -> None:
    schema = {
        "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
        "$ref": "#/$defs/A",
    }
    with pytest.raises(AIError, match="cycle"):
        SchemaRefs(schema).check()
