"""Workers AI's Responses-API models (``@cf/openai/gpt-oss-*``).

These take OpenAI Responses input — ``{"input": str | [items], "instructions": str}`` — and
answer with a Responses object whose ``output`` holds an assistant ``message`` item, which is
what Cloudflare's own Python example reads (``response.output``). Locally they run on the same
chat model as every other text model; there is no reasoning item because the local model does
not reason.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from wranglerpy.ai.inputs import NUMERIC, bad, json_type
from wranglerpy.ai.sampling import SamplingParams

RESPONSES_MODELS = frozenset({"@cf/openai/gpt-oss-120b", "@cf/openai/gpt-oss-20b"})

_TEXT_PARTS = ("input_text", "output_text", "text")


def _content_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad(f"Type mismatch of '{where}', '{json_type(content)}' not in 'string, array'")
    texts: list[str] = []
    for i, part in enumerate(content):
        if not isinstance(part, Mapping) or part.get("type") not in _TEXT_PARTS:
            raise bad(
                f"'{where}/{i}' must be a text part ({', '.join(_TEXT_PARTS)}); other parts "
                "(images, files) have no local model"
            )
        if not isinstance(part.get("text"), str):
            raise bad(f"required properties at '{where}/{i}' are 'text'")
        texts.append(part["text"])
    return "".join(texts)


def request_messages(inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    """``instructions`` + ``input`` as chat messages (the instructions become the system turn)."""
    messages: list[dict[str, str]] = []
    instructions = inputs.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise bad(
                f"Type mismatch of '/instructions', '{json_type(instructions)}' not in 'string'"
            )
        messages.append({"role": "system", "content": instructions})
    if "input" not in inputs:
        raise bad("required properties at '/' are 'input'")
    given = inputs["input"]
    if isinstance(given, str):
        if not given:
            raise bad("'/input' must NOT have fewer than 1 characters")
        messages.append({"role": "user", "content": given})
        return messages
    if not isinstance(given, list) or not given:
        raise bad(f"Type mismatch of '/input', '{json_type(given)}' not in 'string, array'")
    for i, item in enumerate(given):
        if not isinstance(item, Mapping) or item.get("type", "message") != "message":
            raise bad(f"'/input/{i}' must be a message item with 'role' and 'content'")
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise bad(
                f"'/input/{i}/role' must be one of 'user', 'assistant', 'system', 'developer'"
            )
        text = _content_text(item.get("content"), f"/input/{i}/content")
        messages.append({"role": "system" if role == "developer" else role, "content": text})
    return messages


def sampling_params(inputs: Mapping[str, Any]) -> SamplingParams:
    """``max_output_tokens``, ``temperature`` and ``top_p``; ``reasoning`` has no local meaning."""
    renamed = {"max_tokens": inputs.get("max_output_tokens")}
    for name in ("temperature", "top_p"):
        renamed[name] = inputs.get(name)
    given: dict[str, Any] = {}
    for name, value in renamed.items():
        if value is None:
            continue
        kind, low, high = NUMERIC[name]
        shown = "max_output_tokens" if name == "max_tokens" else name
        got = json_type(value)
        if got != kind and not (kind == "number" and got == "integer"):
            raise bad(f"Type mismatch of '/{shown}', '{got}' not in '{kind}'")
        if value < low or value > high:
            raise bad(f"'/{shown}' must be between {low} and {high}, got {value}")
        given[name] = value
    return SamplingParams(**given)


def response_object(
    model: str, text: str, usage: Mapping[str, int], *, truncated: bool
) -> dict[str, Any]:
    """A Responses API object with one assistant message carrying ``text``."""
    return {
        "id": f"resp_{uuid.uuid4().hex}",
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "incomplete" if truncated else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if truncated else None,
        "output": [
            {
                "id": f"msg_{uuid.uuid4().hex}",
                "type": "message",
                "role": "assistant",
                "status": "incomplete" if truncated else "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "output_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
        },
    }
