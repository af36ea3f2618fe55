"""The runtime socket folder is this user's, 0700 (issue 18, finding 12)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from wranglerpy.errors import WranglerError
from wranglerpy.host.sockets import bind_unix, runtime_dir


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / f"wranglerpy-{os.getuid()}"


def test_it_is_created_private_and_a_loose_one_is_tightened(tmp: Path) -> None:
    assert stat.S_IMODE(runtime_dir().stat().st_mode) == 0o700
    tmp.chmod(0o777)
    sock, path = bind_unix("w")
    sock.close()
    assert path.parent == tmp and stat.S_IMODE(tmp.stat().st_mode) == 0o700


def test_a_symlink_is_refused(tmp: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    tmp.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(WranglerError, match="symbolic link"):
        runtime_dir()


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_refused(tmp: Path) -> None:
    tmp.mkdir(mode=0o700)
    os.chown(tmp, 12345, 12345)
    with pytest.raises(WranglerError, match="belongs to user id 12345"):
        runtime_dir()
