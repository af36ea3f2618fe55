"""Validating the bodies of /chat, /completion and /object before any stream starts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for

DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct"
DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_TOKENS = 512
MAX_TOKENS_LIMIT = 4096
MAX_TEMPERATURE = 5.0
ROLES = ("system", "user", "assistant")


class InvalidRequest(ValueError):
    """A body the worker cannot serve; the message names the field and the problem."""


@dataclass(frozen=True)
class GenerationRequest:
    endpoint: str  # chat | completion | object
    model: str
    messages: list[dict[str, str]]
    temperature: float
    max_tokens: int
    temperature_given: bool = False
    chat_id: str | None = None
    schema: dict[str, Any] | None = field(default=None)

    @property
    def deterministic(self) -> bool:
        """Only an explicit temperature 0 asks for a repeatable answer (and may be cached)."""
        return self.temperature_given and self.temperature == 0


def _options(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model.strip() or len(model) > 200:
        raise InvalidRequest("'model' must be a model name such as " + repr(DEFAULT_MODEL))
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not 0 <= temperature <= MAX_TEMPERATURE
    ):
        raise InvalidRequest(f"'temperature' must be a number from 0 to {MAX_TEMPERATURE:g}")
    max_tokens = body.get("maxTokens", DEFAULT_MAX_TOKENS)
    if (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or not (1 <= max_tokens <= MAX_TOKENS_LIMIT)
    ):
        raise InvalidRequest(f"'maxTokens' must be an integer from 1 to {MAX_TOKENS_LIMIT}")
    return {
        "model": model.strip(),
        "temperature": float(DEFAULT_TEMPERATURE if temperature is None else temperature),
        "temperature_given": temperature is not None,
        "max_tokens": max_tokens,
    }


def _message_text(message: Any, index: int) -> dict[str, str]:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise InvalidRequest(f"{where} must be an object with 'role' and 'parts'")
    role = message.get("role")
    if role not in ROLES:
        raise InvalidRequest(f"{where}.role must be one of {', '.join(ROLES)}, got {role!r}")
    parts = message.get("parts")
    if parts is None and isinstance(message.get("content"), str):
        return {"role": role, "content": message["content"]}  # the plain Workers AI shape
    if not isinstance(parts, list):
        raise InvalidRequest(f"{where}.parts must be a list of {{type: 'text', text}} parts")
    texts = []
    for j, part in enumerate(parts):
        if not isinstance(part, dict) or "type" not in part:
            raise InvalidRequest(f"{where}.parts[{j}] must be an object with a 'type'")
        if part["type"] == "text":
            if not isinstance(part.get("text"), str):
                raise InvalidRequest(f"{where}.parts[{j}].text must be a string")
            texts.append(part["text"])
    if not texts:
        raise InvalidRequest(f"{where} has no text part")
    return {"role": role, "content": "".join(texts)}


def _object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the request body must be JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("'prompt' is required and must be a non-empty string")
    return prompt


def parse_chat(raw: bytes) -> GenerationRequest:
    body = _object(raw)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' is required and must be a non-empty list")
    chat_id = body.get("chatId")
    if chat_id is not None and not isinstance(chat_id, str):
        raise InvalidRequest("'chatId' must be a string")
    converted = [_message_text(m, i) for i, m in enumerate(messages)]
    return GenerationRequest("chat", messages=converted, chat_id=chat_id, **_options(body))


def parse_completion(raw: bytes) -> GenerationRequest:
    body = _object(raw)
    prompt = _prompt(body)
    system = body.get("systemPrompt")
    if system is not None and not isinstance(system, str):
        raise InvalidRequest("'systemPrompt' must be a string")
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return GenerationRequest("completion", messages=messages, **_options(body))


def check_schema(schema: Any) -> dict[str, Any]:
    """The schema as an object (it may arrive as a JSON string), checked against its metaschema."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            raise InvalidRequest("'schema' is a string but not JSON") from None
    if not isinstance(schema, dict):
        raise InvalidRequest("'schema' is required and must be a JSON Schema object")
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        raise InvalidRequest(f"'schema' is not a valid JSON Schema: {exc.message}") from None
    return schema


def parse_object(raw: bytes) -> GenerationRequest:
    body = _object(raw)
    prompt = _prompt(body)
    schema = check_schema(body.get("schema"))
    messages = [{"role": "user", "content": prompt}]
    return GenerationRequest("object", messages=messages, schema=schema, **_options(body))


PARSERS = {"chat": parse_chat, "completion": parse_completion, "object": parse_object}
