from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.embeddings import EmbeddingModel
from wranglerpy.ai.models import MINILM


def test_unit_vectors_mean_pooled_over_real_tokens(tiny_embedder_dir: Path) -> None:
    model = EmbeddingModel(tiny_embedder_dir)
    assert model.dimensions == 8
    vectors = model.embed(["hello", "hello hello world", "cat"])
    assert vectors.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Padding to the longest input must not change a short input's vector.
    np.testing.assert_allclose(vectors[0], model.embed(["hello"])[0], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_real_minilm_ranks_the_matching_sentence_first() -> None:
    cache = ModelCache()
    if not cache.is_cached(MINILM):
        pytest.skip(f"{MINILM.name} is not cached; run `wranglerpy ai pull {MINILM.name}`")
    model = EmbeddingModel(cache.path(MINILM))
    q, match, cat, storage = model.embed(
        [
            "What is a service binding?",
            "A service binding lets one Worker call another.",
            "The cat sat on the mat.",
            "Durable Objects provide strongly consistent storage.",
        ]
    )
    assert model.dimensions == 384
    assert float(q @ match) > 0.6 > max(float(q @ cat), float(q @ storage))
