"""Issue 18, finding 14: the state folder cannot be reset or removed under a running dev
without the loss being refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wranglerpy.bindings import state_lock
from wranglerpy.bindings.kv import KVNamespaceBinding
from wranglerpy.errors import StateError


def test_reset_is_refused_while_dev_holds_the_folder(tmp_path: Path) -> None:
    state = tmp_path / "state"
    held = state_lock.hold_for_dev([state])
    with pytest.raises(StateError, match="a running `wranglerpy dev` uses it"):
        with state_lock.exclusive(state):
            pass
    held.release()
    with state_lock.exclusive(state):
        pass  # free once dev has stopped


def test_several_dev_sessions_may_share_a_folder(tmp_path: Path) -> None:
    first = state_lock.hold_for_dev([tmp_path])
    second = state_lock.hold_for_dev([tmp_path, tmp_path])
    first.release()
    with pytest.raises(StateError):
        with state_lock.exclusive(tmp_path):
            pass
    second.release()
    second.release()  # idempotent


def test_dev_waits_for_nobody_but_is_told_about_a_reset(tmp_path: Path) -> None:
    with state_lock.exclusive(tmp_path):
        with pytest.raises(StateError, match="being reset right now"):
            state_lock.hold_for_dev([tmp_path])


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    state_lock.hold_for_dev([tmp_path / "s"]).release()
    assert (tmp_path / "s" / state_lock.LOCK_NAME).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o700


async def test_writes_after_the_folder_is_removed_are_refused_not_lost(tmp_path: Path) -> None:
    state = tmp_path / "state"
    kv = KVNamespaceBinding(state / "kv" / "ns" / "kv.sqlite")
    try:
        await kv.put("a", "1")
        shutil.rmtree(state)  # `rm -rf .wranglerpy` under a running dev
        with pytest.raises(StateError, match="was deleted or replaced while in use"):
            await kv.put("b", "2")
        with pytest.raises(StateError):
            await kv.get("a")
    finally:
        kv.close()
