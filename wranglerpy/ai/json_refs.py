"""Local ``$ref`` and ``allOf`` for constrained JSON, so schemas from Pydantic and friends work.

Pydantic's ``model_json_schema()`` puts nested models under ``$defs`` and points at them with
``{"$ref": "#/$defs/Name"}``; ``allOf`` wraps a single ref in older versions. Only refs inside
the schema itself (``#`` and ``#/...`` JSON pointers) can be followed offline; others are
refused up front with the ref named.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from wranglerpy.ai.inputs import bad

MAX_REF_CHAIN = 32  # a ref that points at a ref ... deeper than this is a cycle


class SchemaRefs:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with its ``$ref`` followed and its ``allOf`` merged in."""
        for _ in range(MAX_REF_CHAIN):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                break
            target = self._pointer(ref)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if siblings else target
        else:
            raise bad(f"'/response_format/json_schema': $ref cycle at {schema.get('$ref')!r}")
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in parts:
                if isinstance(part, dict):
                    _merge(merged, self.resolve(part))
            schema = merged
        return schema

    def _pointer(self, ref: str) -> dict[str, Any]:
        if ref != "#" and not ref.startswith("#/"):
            raise bad(
                f"'/response_format/json_schema': $ref {ref!r} points outside the schema; "
                "only local refs (#/$defs/...) can be followed"
            )
        node: Any = self.root
        for raw in ref[2:].split("/") if ref != "#" else []:
            key = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise bad(f"'/response_format/json_schema': $ref {ref!r} points at nothing")
        if not isinstance(node, dict):
            raise bad(f"'/response_format/json_schema': $ref {ref!r} is not a schema")
        return node

    def check(self) -> None:
        """Follow every ref once, so a bad one fails before generation starts."""
        for ref in _refs(self.root):
            self.resolve({"$ref": ref})


def _merge(into: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key == "properties" and isinstance(value, dict):
            into["properties"] = {**into.get("properties", {}), **value}
        elif key == "required" and isinstance(value, list):
            into["required"] = [*into.get("required", []), *value]
        else:
            into.setdefault(key, value)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
