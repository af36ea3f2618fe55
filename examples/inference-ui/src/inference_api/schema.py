"""The GraphQL schema (schema.graphql) with its custom scalars, built once at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema, build_schema
from graphql.language import IntValueNode, ValueNode
from graphql.utilities import value_from_ast_untyped

SDL_PATH = Path(__file__).with_name("schema.graphql")
MAX_SAFE_INTEGER = 2**53 - 1


def _timestamp(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise GraphQLError(f"Timestamp must be an integer number of milliseconds, got {value!r}")
    if abs(value) > MAX_SAFE_INTEGER:
        raise GraphQLError(f"Timestamp {value!r} is out of range")
    return int(value)


def _timestamp_literal(node: ValueNode, _variables: Any = None) -> int:
    if not isinstance(node, IntValueNode):
        raise GraphQLError("Timestamp must be an integer literal")
    return _timestamp(int(node.value))


def _json_identity(value: Any) -> Any:
    return value


def _json_literal(node: ValueNode, variables: Any = None) -> Any:
    return value_from_ast_untyped(node, variables)


def build() -> GraphQLSchema:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    # Scalars declared in SDL are this schema's own objects, so configuring them is local.
    json_type = schema.type_map["JSON"]
    assert isinstance(json_type, GraphQLScalarType)
    json_type.serialize = _json_identity  # type: ignore[method-assign]
    json_type.parse_value = _json_identity  # type: ignore[method-assign]
    json_type.parse_literal = _json_literal  # type: ignore[method-assign]
    ts_type = schema.type_map["Timestamp"]
    assert isinstance(ts_type, GraphQLScalarType)
    ts_type.serialize = _timestamp  # type: ignore[method-assign]
    ts_type.parse_value = _timestamp  # type: ignore[method-assign]
    ts_type.parse_literal = _timestamp_literal  # type: ignore[method-assign, assignment]
    return schema


SCHEMA = build()
