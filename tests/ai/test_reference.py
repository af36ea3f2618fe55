"""The real SmolLM2 model against llama.cpp's greedy output, token for token (slow).

Skipped when the model is not in the cache; CI runs ``wranglerpy ai pull`` first. The
reference (tests/ai/data/llamacpp-reference.json) came from llama-cpp-python 0.3.36 on the
same GGUF: 128 greedy tokens for a 36-token and a 484-token prompt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.models import SMOLLM2

pytestmark = pytest.mark.slow

REFERENCE = json.loads((Path(__file__).parent / "data" / "llamacpp-reference.json").read_text())
CASES = REFERENCE["cases"]


@pytest.fixture(scope="module", params=["float prefill", "int8 prefill"])
def text_model(request: pytest.FixtureRequest) -> Any:
    """Both prefill sessions (prefill_graph.py): the prompt's activations in float or int8."""
    cache = ModelCache()
    if not cache.is_cached(SMOLLM2):
        pytest.skip(f"{SMOLLM2.name} is not cached; run `wranglerpy ai pull {SMOLLM2.name}`")
    from wranglerpy.ai.generate import TextModel

    return TextModel(cache.path(SMOLLM2), float_prefill=request.param == "float prefill")


@pytest.mark.parametrize("case", sorted(CASES))
def test_prompt_renders_and_tokenizes_like_llamacpp(text_model: Any, case: str) -> None:
    ref = CASES[case]
    prompt = text_model.template.render([{"role": "user", "content": ref["user_message"]}])
    assert prompt == ref["rendered_prompt"]
    assert text_model.encode(prompt) == ref["prompt_token_ids"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_greedy_tokens_equal_llamacpp(text_model: Any, case: str) -> None:
    from wranglerpy.ai.sampling import SamplingParams

    ref = CASES[case]
    want = ref["output_token_ids"]
    params = SamplingParams(max_tokens=len(want), temperature=0)
    got = list(text_model.tokens(ref["prompt_token_ids"], params))
    assert got == want


async def test_binding_greedy_response_equals_llamacpp_text(text_model: Any) -> None:
    """Through ``env.AI.run`` (Cloudflare model name, chat messages), plain and streamed."""
    from wranglerpy.ai.binding import create
    from wranglerpy.config.schema import AIBinding

    ref = CASES["short"]
    ai = create(AIBinding(binding="AI"), Path("."))
    inputs = {
        "messages": [{"role": "user", "content": ref["user_message"]}],
        "temperature": 0,
        "max_tokens": len(ref["output_token_ids"]),
    }
    want = text_model.decode(ref["output_token_ids"])
    result = await ai.run("@cf/meta/llama-3.1-8b-instruct", inputs)
    assert result["response"] == want
    assert result["usage"] == {
        "prompt_tokens": len(ref["prompt_token_ids"]),
        "completion_tokens": len(ref["output_token_ids"]),
        "total_tokens": len(ref["prompt_token_ids"]) + len(ref["output_token_ids"]),
    }
    stream = await ai.run("@cf/meta/llama-3.1-8b-instruct", {**inputs, "stream": True})
    raw = b"".join([chunk async for chunk in stream]).decode()
    events = [line[len("data: ") :] for line in raw.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    assert "".join(json.loads(e)["response"] for e in events[:-1]) == want
