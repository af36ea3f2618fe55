"""OpenAI request bodies turned into Workers AI inputs (what ``env.AI.run`` takes).

Workers AI's own OpenAI-compatible endpoints take the same Cloudflare model names
(``@cf/meta/llama-3.1-8b-instruct``); options Workers AI has no input for are refused with a
clear message rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wranglerpy.services.openai.wire import OpenAIError

SAMPLING = ("temperature", "top_p", "seed", "frequency_penalty", "presence_penalty")
UNSUPPORTED = ("tools", "functions", "tool_choice", "function_call", "logprobs", "logit_bias")
DEFAULT_MAX_TOKENS = 256  # Workers AI's default for text generation


def bad(message: str, param: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param)


def model_name(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("you must provide a model parameter", "model")
    return model


def _content(message: Mapping[str, Any], index: int) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        texts = []
        for part in content:
            if not isinstance(part, Mapping) or part.get("type") != "text":
                raise bad(
                    "only text content parts are supported by the local model",
                    f"messages.[{index}].content",
                )
            texts.append(str(part.get("text", "")))
        return "".join(texts)
    raise bad("content must be a string or a list of parts", f"messages.[{index}].content")


def stop_sequences(body: Mapping[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items):
        raise bad("stop must be a string or a list of up to 4 strings", "stop")
    if len(items) > 4:
        raise bad("stop must be a string or a list of up to 4 strings", "stop")
    return list(items)


def _common(body: Mapping[str, Any]) -> dict[str, Any]:
    for name in UNSUPPORTED:
        if body.get(name):
            raise bad(f"{name} is not supported by the local model", name)
    if body.get("n", 1) != 1:
        raise bad("only n=1 is supported", "n")
    # Passed through as given: the AI binding checks them as Workers AI does.
    inputs: dict[str, Any] = {n: body[n] for n in SAMPLING if body.get(n) is not None}
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    inputs["max_tokens"] = DEFAULT_MAX_TOKENS if limit is None else limit
    return inputs


def chat_inputs(body: Mapping[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("messages must be a non-empty array", "messages")
    converted = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise bad("each message needs a role", f"messages.[{i}]")
        role = "system" if message["role"] == "developer" else message["role"]
        converted.append({"role": role, "content": _content(message, i)})
    inputs = _common(body)
    inputs["messages"] = converted
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") in ("json_object", "json_schema"):
        inputs["response_format"] = dict(fmt)
    elif fmt is not None and not (isinstance(fmt, Mapping) and fmt.get("type") == "text"):
        raise bad(
            "response_format.type must be text, json_object or json_schema", "response_format"
        )
    return inputs


def completion_inputs(body: Mapping[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt:
        raise bad("prompt must be a non-empty string (one prompt per request locally)", "prompt")
    if body.get("echo") or body.get("suffix") or body.get("best_of", 1) != 1:
        raise bad("echo, suffix and best_of are not supported by the local model")
    inputs = _common(body)
    inputs["prompt"] = prompt
    inputs["raw"] = True  # a completion continues the text as given, without a chat template
    return inputs


def embedding_texts(body: Mapping[str, Any]) -> list[str]:
    given = body.get("input")
    texts = [given] if isinstance(given, str) else given
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise bad("input must be a string or a non-empty array of strings", "input")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise bad("encoding_format must be float or base64", "encoding_format")
    return list(texts)
