"""Render chat messages with the model's own Jinja chat template (from GGUF metadata)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from wranglerpy.errors import AIError

# Used when a GGUF has no template: ChatML, what SmolLM2 and many small models expect.
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _raise(message: str) -> NoReturn:
    raise jinja2.TemplateError(message)


class ChatTemplate:
    def __init__(self, source: str | None) -> None:
        # Sandboxed: the template comes from a downloaded file. trim/lstrip as HF tokenizers do.
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        self._template = env.from_string(source or CHATML)

    def render(
        self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool = True
    ) -> str:
        try:
            return self._template.render(
                messages=list(messages), add_generation_prompt=add_generation_prompt
            )
        except jinja2.TemplateError as exc:
            raise AIError(
                f"AiError: 5006: Error: the chat template rejected the messages: {exc}"
            ) from None
