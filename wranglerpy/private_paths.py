"""Folders and files only their owner can read: local state, logs, and the runtime sockets.

Local state holds whatever workers store (sessions, keys, user data) and the runtime folder
holds the sockets that reach every worker and binding, so neither may be readable (or, for
the sockets, replaceable) by other users of the machine: folders are 0700, files 0600.

:func:`private_dir` creates missing folders 0700 and tightens an existing one that is ours;
with ``strict=True`` (a folder in a shared place such as ``/tmp``) it refuses a folder that
is a symlink or belongs to someone else, since whoever owns it could swap the sockets.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from wranglerpy.errors import StateError

DIR_MODE = 0o700
FILE_MODE = 0o600

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file"]


def private_dir(path: Path, *, strict: bool = False) -> Path:
    """``path`` as an existing folder of this user, mode 0700 (created with its parents)."""
    missing: list[Path] = []
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass  # created meanwhile by another process: checked below like any other
        except OSError as exc:
            raise StateError(f"Cannot create the folder {folder}: {exc.strerror}") from None
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise StateError(f"Cannot use the folder {path}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        if strict:
            raise StateError(
                f"Refusing to use {path}: it is a symbolic link (it must be a private folder)."
            )
        info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise StateError(f"Cannot use {path}: it exists and is not a folder.")
    if info.st_uid != os.getuid():
        if strict:
            raise StateError(
                f"Refusing to use {path}: it belongs to user id {info.st_uid}, not to you "
                f"({os.getuid()}); remove it or set TMPDIR to a folder of your own."
            )
        return path
    if stat.S_IMODE(info.st_mode) & 0o077:
        try:
            os.chmod(path, DIR_MODE)
        except OSError as exc:
            raise StateError(f"Cannot make {path} private: {exc.strerror}") from None
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it is missing; tighten it if it is ours."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        raise StateError(f"Cannot create {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path
