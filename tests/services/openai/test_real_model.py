"""The openai package against a real services process and the real local models (slow)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.services.conftest import LoopThread, serve
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.models import MINILM, SMOLLM2
from wranglerpy.services.server import ServicesHandle
from wranglerpy.services.spec import ServicesSpec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_services(loop_thread: LoopThread, persist_dir: Path) -> Iterator[ServicesHandle]:
    cache = ModelCache()
    if not (cache.is_cached(SMOLLM2) and cache.is_cached(MINILM)):
        pytest.skip("models not cached; run `wranglerpy ai pull --all`")
    yield from serve(loop_thread, ServicesSpec(persist_dir))


def test_streams_a_chat_completion(real_services: ServicesHandle) -> None:
    client = openai.OpenAI(base_url=real_services.openai_url, api_key="local", max_retries=0)
    model = "@cf/meta/llama-3.1-8b-instruct"
    messages: Any = [{"role": "user", "content": "Name three colours."}]
    # temperature 0 is greedy: the stream and the whole answer must agree
    whole = client.chat.completions.create(
        model=model, messages=messages, max_tokens=24, temperature=0
    )
    stream = client.chat.completions.create(
        model=model,
        messages=messages,
        max_tokens=24,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and text == whole.choices[0].message.content
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # streamed
    usage = chunks[-1].usage
    assert usage is not None and 0 < usage.completion_tokens <= 24


def test_gets_embeddings(real_services: ServicesHandle) -> None:
    client = openai.OpenAI(base_url=real_services.openai_url, api_key="local", max_retries=0)
    result = client.embeddings.create(
        model="@cf/baai/bge-small-en-v1.5",
        input=["a cat sat on the mat", "a kitten sat on the rug", "quarterly tax filing"],
    )
    vectors = [d.embedding for d in result.data]
    assert [len(v) for v in vectors] == [384, 384, 384]

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))  # unit vectors

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
