"""Validate ``env.AI.run`` inputs the way Workers AI does, with its error wording."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.errors import AIError

# name: (JSON type, minimum, maximum) from Workers AI's text-generation input schema
NUMERIC = {
    "max_tokens": ("integer", 1, 8192),
    "temperature": ("number", 0.0, 5.0),
    "top_p": ("number", 0.0, 2.0),
    "top_k": ("integer", 0, 50),
    "seed": ("integer", 0, 9_999_999_999),
    "repetition_penalty": ("number", 0.0, 2.0),
}


def bad(message: str) -> AIError:
    return AIError(f"AiError: 5006: Error: {message}")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _number(inputs: Mapping[str, Any], name: str) -> Any:
    kind, low, high = NUMERIC[name]
    value = inputs[name]
    got = json_type(value)
    if got != kind and not (kind == "number" and got == "integer"):
        raise bad(f"Type mismatch of '/{name}', '{got}' not in '{kind}'")
    if value < low or value > high:
        raise bad(f"'/{name}' must be between {low} and {high}, got {value}")
    return value


def sampling_params(inputs: Mapping[str, Any]) -> SamplingParams:
    given = {name: _number(inputs, name) for name in NUMERIC if inputs.get(name) is not None}
    return SamplingParams(**given)


def chat_messages(inputs: Mapping[str, Any]) -> list[dict[str, str]] | None:
    if "messages" not in inputs:
        if not isinstance(inputs.get("prompt"), str):
            if "prompt" in inputs:
                raise bad(
                    f"Type mismatch of '/prompt', '{json_type(inputs['prompt'])}' not in 'string'"
                )
            raise bad(
                "oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt', required properties at '/' are 'messages'"
            )
        if not inputs["prompt"]:
            raise bad("'/prompt' must NOT have fewer than 1 characters")
        return None
    messages = inputs["messages"]
    if not isinstance(messages, list):
        raise bad(f"Type mismatch of '/messages', '{json_type(messages)}' not in 'array'")
    out: list[dict[str, str]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise bad(f"Type mismatch of '/messages/{i}', '{json_type(message)}' not in 'object'")
        for key in ("role", "content"):
            if key not in message:
                raise bad(f"required properties at '/messages/{i}' are 'role', 'content'")
            if not isinstance(message[key], str):
                raise bad(
                    f"Type mismatch of '/messages/{i}/{key}', '{json_type(message[key])}' not in 'string'"
                )
        out.append({"role": message["role"], "content": message["content"]})
    return out


def response_schema(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the answer must follow (``{}`` for any JSON object), or None."""
    fmt = inputs.get("response_format")
    if fmt is None:
        return None
    if not isinstance(fmt, Mapping) or fmt.get("type") not in ("json_object", "json_schema"):
        raise bad("'/response_format/type' must be one of 'json_object', 'json_schema'")
    if fmt["type"] == "json_object":
        return {"type": "object"}
    schema = fmt.get("json_schema")
    if not isinstance(schema, Mapping):
        raise bad("required properties at '/response_format' are 'json_schema'")
    # OpenAI's wrapper {"name": ..., "schema": {...}} is accepted too.
    if "schema" in schema and isinstance(schema["schema"], Mapping) and "type" not in schema:
        schema = schema["schema"]
    try:
        return dict(json.loads(json.dumps(schema)))
    except (TypeError, ValueError) as exc:
        raise bad(f"'/response_format/json_schema' is not JSON: {exc}") from None


def embedding_texts(inputs: Mapping[str, Any]) -> list[str]:
    if "text" not in inputs:
        raise bad("required properties at '/' are 'text'")
    text = inputs["text"]
    texts = [text] if isinstance(text, str) else text
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise bad(
            f"Type mismatch of '/text', '{json_type(text)}' not in 'string, array of strings'"
        )
    if not texts:
        raise bad("'/text' must NOT have fewer than 1 items")
    if len(texts) > 100:
        raise bad("'/text' must NOT have more than 100 items")
    return texts
