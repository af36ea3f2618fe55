"""State, logs and the runtime socket folder are private (issue 18, findings 12 and 15)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wranglerpy.bindings._sqlite import connect
from wranglerpy.errors import StateError
from wranglerpy.private_paths import private_dir, private_file


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_missing_folders_are_created_0700(tmp_path: Path) -> None:
    private_dir(tmp_path / "a" / "b" / "c")
    for part in ("a", "a/b", "a/b/c"):
        assert mode(tmp_path / part) == 0o700


def test_an_open_folder_of_ours_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    private_dir(folder)
    assert mode(folder) == 0o700


def test_strict_refuses_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(StateError, match="symbolic link"):
        private_dir(tmp_path / "link", strict=True)


def test_strict_refuses_a_folder_of_another_user(tmp_path: Path) -> None:
    if os.getuid() == 0:
        other = tmp_path / "theirs"
        other.mkdir(mode=0o700)
        os.chown(other, 65534, 65534)  # nobody
    else:
        other = Path("/")  # root's
    with pytest.raises(StateError, match="belongs to user id"):
        private_dir(other, strict=True)


def test_a_file_that_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StateError, match="not a folder"):
        private_dir(tmp_path / "f")


def test_private_file(tmp_path: Path) -> None:
    path = private_file(tmp_path / "log")
    assert mode(path) == 0o600
    os.chmod(path, 0o644)
    private_file(path)
    assert mode(path) == 0o600


def test_state_stores_are_0600_in_0700_folders(tmp_path: Path) -> None:
    db = tmp_path / "state" / "kv" / "ns" / "kv.sqlite"
    conn = connect(db)
    conn.execute("CREATE TABLE t (a)")
    conn.execute("INSERT INTO t VALUES (1)")
    try:
        assert mode(db) == 0o600
        assert mode(db.with_name("kv.sqlite-wal")) == 0o600
        for folder in (db.parent, db.parent.parent, tmp_path / "state"):
            assert mode(folder) == 0o700
    finally:
        conn.close()
