"""Finishing a JSON answer that max_tokens cut off: the result parses and fits the schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wranglerpy.ai.constrained import Status, check
from wranglerpy.ai.json_close import closing_suffix

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age", "tags"],
}


@pytest.mark.parametrize(
    ("prefix", "want"),
    [
        ('{"name": "Ethan", "age": 25, "tags": ["a", "Ethan_A_Thr', ["a", "Ethan_A_Thr"]),
        ('{"name": "x", "age": 3, "tags": [', []),
        ('{"name": "x", "age": 3, "tags": ["a",', ["a", ""]),
    ],
)
def test_cut_inside_an_array_keeps_what_was_written(prefix: str, want: list[str]) -> None:
    value = json.loads(prefix + (closing_suffix(prefix, PERSON) or ""))
    assert value["tags"] == want
    assert value["name"] in ("Ethan", "x")


@pytest.mark.parametrize(
    "prefix",
    ["{", '{"na', '{"name": "x\\', '{"name": "x", "age": ', '{"name": "x", "age": -', "{\n  "],
)
def test_missing_required_keys_are_filled_with_placeholders(prefix: str) -> None:
    suffix = closing_suffix(prefix, PERSON)
    assert suffix is not None
    value = json.loads(prefix + suffix)
    assert set(value) == {"name", "age", "tags"}
    assert isinstance(value["age"], int) and isinstance(value["tags"], list)
    assert check(prefix + suffix, PERSON) is Status.COMPLETE


def test_a_number_being_written_is_ended_not_extended() -> None:
    prefix = '{"name": "x", "age": 1'
    assert json.loads(prefix + (closing_suffix(prefix, PERSON) or ""))["age"] == 1


@pytest.mark.parametrize(
    ("prefix", "schema", "want"),
    [
        ('{"color": "re', {"properties": {"color": {"enum": ["red", "green"]}}}, {"color": "red"}),
        ('{"a": [1, {"b": tr', {}, {"a": [1, {"b": True}]}),
        ("[1, 2", {"type": "array", "items": {"type": "number"}, "minItems": 3}, [1, 2, 0]),
    ],
)
def test_other_shapes(prefix: str, schema: dict[str, Any], want: Any) -> None:
    assert json.loads(prefix + (closing_suffix(prefix, schema) or "")) == want


def test_complete_and_invalid_prefixes() -> None:
    assert closing_suffix('{"name": "x", "age": 1, "tags": []}', PERSON) == ""
    assert closing_suffix('{"nope": 1', PERSON) is None


@pytest.mark.parametrize("prefix", ["", "{", '{"na', '{"name": "Bo", "age": 4'])
def test_even_an_empty_or_barely_started_answer_is_finished(prefix: str) -> None:
    suffix = closing_suffix(prefix, PERSON)
    assert suffix is not None and check(prefix + suffix, PERSON) is Status.COMPLETE
    value = json.loads(prefix + suffix)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)
