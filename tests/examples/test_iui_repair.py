"""Making a model's answer valid against a JSON Schema, or saying why it cannot be."""

from __future__ import annotations

import pytest

from inference_streaming.repair import coerce, extract_json, first_error, repair

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "admin": {"type": "boolean"},
        "role": {"enum": ["Owner", "Member"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "country": {"type": "string", "default": "NL"},
    },
    "required": ["name", "age", "country"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        'Here you go:\n```json\n{"a": 1}\n```\nEnjoy!',
        'Sure! {"a": 1} is the answer.',
        '{"a": 1,}',
        '  {"a": {"b": "}"}, "c": [1,]}',
    ],
)
def test_extract_json(text: str) -> None:
    value = extract_json(text)
    assert value["a"] in (1, {"b": "}"})


def test_extract_json_without_json() -> None:
    with pytest.raises(ValueError, match="no JSON"):
        extract_json("I cannot do that.")


def test_coerce_obvious_mismatches() -> None:
    raw = {
        "name": 7,
        "age": "42",
        "admin": "TRUE",
        "role": "owner",
        "tags": [1, "x"],
        "extra": True,
    }
    fixed = coerce(raw, PERSON)
    assert fixed == {
        "name": "7",
        "age": 42,
        "admin": True,
        "role": "Owner",
        "tags": ["1", "x"],
        "country": "NL",
    }
    assert first_error(fixed, PERSON) is None


def test_repair_keeps_valid_values_untouched() -> None:
    value = {"name": "Ada", "age": 36, "country": "UK"}
    assert repair(value, PERSON) == (value, None)
    assert repair('{"name": "Ada", "age": 36.0, "country": "UK"}', PERSON)[0]["age"] == 36


def test_repair_reports_what_stays_invalid() -> None:
    value, reason = repair('{"name": "Ada", "age": -3}', PERSON)
    assert value == {"name": "Ada", "age": -3, "country": "NL"}
    assert reason == "at age: -3 is less than the minimum of 0"
    _, reason = repair("no json here", PERSON)
    assert reason == "the model's answer contains no JSON value"
    _, reason = repair({"age": 3}, PERSON)
    assert reason is not None and "'name' is a required property" in reason
