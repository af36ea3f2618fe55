"""Who is using a local state folder: ``dev`` holds a shared lock, ``state reset`` an exclusive one.

Deleting the state folder under a running ``dev`` used to send later writes to unlinked files
(acknowledged, then lost). Now every ``dev`` session holds a shared ``flock`` on
``<persist_dir>/.lock`` for as long as it runs, and ``state reset`` takes the exclusive lock
before deleting anything, so it is refused while a session uses the folder. (Stores also
check their file's identity before each call: see :mod:`wranglerpy.bindings._sqlite`.)

The lock is advisory and local (``fcntl.flock``); it is released by the kernel when the
holder exits, even on ``kill -9``, so a crashed session never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from wranglerpy.config.persist import default_persist_dir
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import StateError
from wranglerpy.private_paths import FILE_MODE, private_dir

LOCK_NAME = ".lock"

__all__ = ["LOCK_NAME", "DevStateLock", "exclusive", "hold_for_dev", "hold_for_workers"]


def _open(persist_dir: Path) -> int:
    private_dir(persist_dir)
    path = persist_dir / LOCK_NAME
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise StateError(f"Cannot open the state lock {path}: {exc.strerror}") from None


class DevStateLock:
    """Shared locks on the state folders of one ``dev`` session; :meth:`release` when done."""

    def __init__(self, persist_dirs: Iterable[Path]) -> None:
        self._fds: list[int] = []
        try:
            for folder in sorted({Path(p).resolve() for p in persist_dirs}):
                fd = _open(folder)
                self._fds.append(fd)
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise StateError(
                        f"The state folder {folder} is being reset right now; try again."
                    ) from None
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)  # closing drops the lock


def hold_for_dev(persist_dirs: Iterable[Path]) -> DevStateLock:
    """Lock ``persist_dirs`` for a ``dev`` session (shared: several sessions may share one)."""
    return DevStateLock(persist_dirs)


def hold_for_workers(workers: Iterable[WorkerConfig], persist_dir: Path | None) -> DevStateLock:
    """Lock the state folder of each worker: ``persist_dir``, else the one beside its config."""
    return DevStateLock(persist_dir or default_persist_dir(w.root) for w in workers)


@contextlib.contextmanager
def exclusive(persist_dir: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``persist_dir``, or raise StateError if ``dev`` uses it."""
    fd = _open(persist_dir)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateError(
                f"Refusing to reset {persist_dir}: a running `wranglerpy dev` uses it (it holds "
                f"{persist_dir / LOCK_NAME}). Stop it first; what it writes next would be lost."
            ) from None
        yield
    finally:
        os.close(fd)
