from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ai.tiny import write_tiny_embedder, write_tiny_gguf
from wranglerpy.ai.binding import AI
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.engine import Engine
from wranglerpy.ai.gguf_convert import convert_gguf
from wranglerpy.ai.model_download import Progress
from wranglerpy.ai.models import MINILM, SMOLLM2, Artifact, ModelTable
from wranglerpy.ai.tokenizer import save_tokenizer


@pytest.fixture(autouse=True)
def _models_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bindings made with ``create()`` load models in the test process: only tests that are
    about the shared model host start one (and stop it)."""
    monkeypatch.setenv("WRANGLERPY_AI_HOST", "process")


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


@pytest.fixture
def engine(tmp_path: Path, tiny_gguf: Path, tiny_embedder_dir: Path) -> Engine:
    """An engine whose cache fetcher (the seam) serves the tiny models under the real names."""
    files = {
        SMOLLM2.artifacts[0].member: tiny_gguf,
        MINILM.artifacts[0].member: tiny_embedder_dir / "model.onnx",
        MINILM.artifacts[1].member: tiny_embedder_dir / "tokenizer.json",
    }

    def fetch(artifact: Artifact, target: Path, progress: Progress | None) -> Path:
        shutil.copyfile(files[artifact.member], target)
        return target

    return Engine(ModelCache(tmp_path / "cache", fetcher=fetch), max_pending=2)


@pytest.fixture
def ai(engine: Engine) -> AI:
    return AI(ModelTable(), lambda: engine)
