"""Turning a model's JSON attempt into a value valid against a JSON Schema, or saying why not.

Generation is constrained by the schema already; this is the safety net: pull the JSON out of
prose or code fences, fix trailing commas, coerce obvious scalar mismatches ("42" for an
integer), drop properties the schema forbids, fill defaults, and then validate for real.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _balanced(text: str, start: int) -> str | None:
    """The bracketed JSON value starting at ``text[start]`` (strings respected), if closed."""
    closing = {"{": "}", "[": "]"}
    stack: list[str] = []
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in closing:
            stack.append(closing[ch])
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return text[start : i + 1]
    return None


def extract_json(text: str) -> Any:
    """The JSON value in ``text``; ValueError when there is none."""
    candidates = [text.strip()]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    for i, ch in enumerate(text):
        if ch in "{[":
            found = _balanced(text, i)
            if found:
                candidates.append(found)
                break
    for candidate in candidates:
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                return json.loads(attempt)
            except ValueError:
                continue
    raise ValueError("the model's answer contains no JSON value")


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    return list(declared) if isinstance(declared, list) else []


def _coerce_scalar(value: Any, types: list[str]) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if "integer" in types and re.fullmatch(r"-?\d+", text):
            return int(text)
        if "number" in types:
            try:
                return float(text) if re.search(r"[.eE]", text) else int(text)
            except ValueError:
                pass
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
    if (
        isinstance(value, float)
        and "integer" in types
        and "number" not in types
        and value.is_integer()
    ):
        return int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and types == ["string"]:
        return str(value)
    return value


def coerce(value: Any, schema: Any) -> Any:
    """A copy of ``value`` nudged towards ``schema`` where the intent is unambiguous."""
    if not isinstance(schema, dict):
        return value
    types = _types(schema)
    if isinstance(value, dict) and (not types or "object" in types):
        declared = schema.get("properties")
        props: dict[str, Any] = declared if isinstance(declared, dict) else {}
        out = {
            k: coerce(v, props.get(k, schema.get("additionalProperties"))) for k, v in value.items()
        }
        if schema.get("additionalProperties") is False:
            out = {k: v for k, v in out.items() if k in props}
        for name in schema.get("required", []):
            if name not in out and isinstance(props.get(name), dict) and "default" in props[name]:
                out[name] = props[name]["default"]
        return out
    if isinstance(value, list) and (not types or "array" in types):
        items = schema.get("items")
        return [coerce(v, items) for v in value]
    if isinstance(value, str) and isinstance(schema.get("enum"), list):
        for option in schema["enum"]:
            if isinstance(option, str) and option.lower() == value.strip().lower():
                return option
    return _coerce_scalar(value, types)


def first_error(value: Any, schema: dict[str, Any]) -> str | None:
    """A readable description of why ``value`` is invalid, or None when it is valid."""
    validator = validator_for(schema)(schema)
    error = best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message}"


def repair(answer: Any, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """``(value, None)`` when ``answer`` (text or an already-parsed value) can be made valid,
    else ``(best effort, reason)``."""
    if isinstance(answer, str):
        try:
            value = extract_json(answer)
        except ValueError as exc:
            return None, str(exc)
    else:
        value = answer
    problem = first_error(value, schema)
    if problem is None:
        return value, None
    fixed = coerce(value, schema)
    problem = first_error(fixed, schema)
    return fixed, problem
