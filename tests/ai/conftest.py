from __future__ import annotations

from pathlib import Path

import pytest

from tests.ai.tiny import write_tiny_embedder, write_tiny_gguf
from wranglerpy.ai.gguf_convert import convert_gguf
from wranglerpy.ai.tokenizer import save_tokenizer


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A converted tiny model folder, as the cache holds it."""
    folder = tmp_path_factory.mktemp("tiny-model")
    convert_gguf(tiny_gguf, folder / "model.onnx", max_positions=512)
    save_tokenizer(tiny_gguf, folder)
    return folder


@pytest.fixture(scope="session")
def tiny_embedder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_embedder(tmp_path_factory.mktemp("tiny-embedder"))
