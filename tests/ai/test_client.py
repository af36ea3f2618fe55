"""The model host's socket name: one host per machine, wranglerpy installation and cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import wranglerpy
from wranglerpy.ai.cache import default_cache_dir
from wranglerpy.ai.client import default_socket_path, socket_name
from wranglerpy.host.sockets import runtime_dir

PACKAGE = Path(wranglerpy.__file__).resolve().parent


def test_the_socket_name_changes_with_install_version_and_cache(tmp_path: Path) -> None:
    cache, other_cache = tmp_path / "cache", tmp_path / "other-cache"
    one, two = tmp_path / "one" / "wranglerpy", tmp_path / "two" / "wranglerpy"
    name = socket_name(cache, one, "0.1.0")
    assert name == socket_name(cache, one, "0.1.0")  # the same install finds the same host
    assert name.startswith("ai-host-") and name.endswith(".sock")
    assert len({name, socket_name(cache, two, "0.1.0")}) == 2
    assert len({name, socket_name(cache, one, "0.2.0")}) == 2
    assert len({name, socket_name(other_cache, one, "0.1.0")}) == 2


def test_this_installation_names_its_own_socket() -> None:
    want = socket_name(default_cache_dir(), PACKAGE, wranglerpy.__version__)
    assert default_socket_path() == runtime_dir() / want


def test_another_checkout_on_the_machine_gets_another_host(tmp_path: Path) -> None:
    """A copy of this package imported from elsewhere (another worktree, the same user and
    model cache) names a different socket: its bench never talks to this checkout's host."""
    shutil.copytree(PACKAGE, tmp_path / "wranglerpy", ignore=shutil.ignore_patterns("__pycache__"))
    code = "from wranglerpy.ai.client import default_socket_path; print(default_socket_path())"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    theirs = Path(out.stdout.strip())
    assert theirs.parent == default_socket_path().parent  # the same per-user folder
    assert theirs != default_socket_path()
