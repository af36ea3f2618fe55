"""JSON-schema constrained decoding on llguidance: a token mask per step, computed incrementally.

llguidance (the grammar engine behind vLLM's and onnxruntime-genai's structured output) compiles
the schema to a grammar over the model's own tokenizer (``tokenizer.json``) and keeps a parser
state that advances by one token per step, so a step costs about the same at the 500th token
as at the first. It enforces what the old prefix parser could not (``pattern``, ``format``,
``additionalProperties``, ...). wranglerpy's caps stay: strings without ``maxLength`` get
:data:`MAX_STRING`, whitespace between tokens is at most one newline and a short indent, so a
small model cannot stall inside the JSON. A schema llguidance refuses fails before generating
with Workers AI's 5006 input error; an answer that can no longer match fails with 5024.
"""

from __future__ import annotations

import copy
import threading
import weakref
from typing import TYPE_CHECKING, Any

import llguidance
import llguidance.numpy as llg_numpy
import numpy as np

from wranglerpy.ai.inputs import bad
from wranglerpy.ai.sampling import Constraint
from wranglerpy.errors import AIError

if TYPE_CHECKING:
    from llguidance._lib import JsonCompileOptions

    from wranglerpy.ai.generate import TextModel

MAX_STRING = 256  # characters in a string whose schema sets no maxLength
# Between JSON tokens: a few spaces, or one newline and an indent (no tabs or CRs: models loop
# on them).
WHITESPACE = r"(?:[ ]{0,12}|\n[ ]{0,11})"
# Overrides, so a schema's own "x-guidance" options cannot lift the caps.
JSON_OPTIONS: JsonCompileOptions = {"whitespace_pattern": WHITESPACE}


OPEN_OBJECT_KEYS = ("additionalProperties", "patternProperties", "unevaluatedProperties")


def capped(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with wranglerpy's caps: every string without ``maxLength`` gets
    :data:`MAX_STRING`; an object that lists its ``properties`` and says nothing about others
    gets no others (a small model otherwise invents keys until ``max_tokens``)."""
    out = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
            if is_string and "maxLength" not in node and "enum" not in node and "const" not in node:
                node["maxLength"] = MAX_STRING
            if isinstance(node.get("properties"), dict) and not any(
                k in node for k in OPEN_OBJECT_KEYS
            ):
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(out)
    return out


def grammar_for(schema: dict[str, Any]) -> str:
    """The llguidance grammar for ``schema``; refused schemas raise Workers AI's 5006 error."""
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            capped(schema), overrides=JSON_OPTIONS
        )
        ok, problem = _validate(grammar)
    except (ValueError, TypeError) as exc:
        ok, problem = False, str(exc)
    if not ok:
        raise bad(f"'/response_format/json_schema' cannot be used for JSON mode: {problem}")
    return grammar


def _validate(grammar: str) -> tuple[bool, str]:
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    return not is_error, "; ".join(str(m) for m in messages)


_tokenizers: weakref.WeakKeyDictionary[TextModel, llguidance.LLTokenizer] = (
    weakref.WeakKeyDictionary()
)
_tokenizers_lock = threading.Lock()


def guidance_tokenizer(model: TextModel) -> llguidance.LLTokenizer:
    """llguidance's view of the model's vocabulary; built once per model (about a second)."""
    with _tokenizers_lock:
        found = _tokenizers.get(model)
        if found is None:
            found = llguidance.LLTokenizer(
                model.tokenizer.to_str(),
                n_vocab=model.vocab_size,
                eos_token=list(model.meta.stop_token_ids),
            )
            _tokenizers[model] = found
        return found


class JsonGuide(Constraint):
    """One answer's grammar state: masks the logits before each pick, advances after it."""

    def __init__(self, model: TextModel, schema: dict[str, Any]) -> None:
        try:
            self._matcher = llguidance.LLMatcher(guidance_tokenizer(model), grammar_for(schema))
        except ValueError as exc:
            raise bad(
                f"'/response_format/json_schema' cannot be used for JSON mode: {exc}"
            ) from None
        if self._matcher.is_error():
            raise bad(
                f"'/response_format/json_schema' cannot be used for JSON mode: {self._matcher.get_error()}"
            )
        self._bitmask = llg_numpy.allocate_token_bitmask(1, model.vocab_size)

    def restrict(self, logits: np.ndarray) -> np.ndarray:
        llg_numpy.fill_next_token_bitmask(self._matcher, self._bitmask, 0)
        self._fail_if_stuck()
        out = np.array(logits, dtype=np.float32, copy=True).reshape(1, -1)
        llg_numpy.apply_token_bitmask_inplace(out, self._bitmask)
        return out[0]

    def advance(self, token: int) -> None:
        self._matcher.consume_token(token)
        self._fail_if_stuck()

    def _fail_if_stuck(self) -> None:
        if self._matcher.is_error():
            raise AIError(f"AiError: 5024: JSON Mode couldn't be met: {self._matcher.get_error()}")
