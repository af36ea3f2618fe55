"""Top-level entropy fails as on Cloudflare: while the worker's main module is imported,
``os.urandom`` (and so ``uuid.uuid4``, ``secrets``) raises ``OSError(29, "Cannot get entropy
outside of request context")`` and ``random``'s module functions raise ``RuntimeError("Cannot
use random.X() outside of request context")`` (workerd ``src/pyodide/internal/topLevelEntropy/``:
``allow_entropy.py:31-34``, ``import_patch_manager.py:243-265``). Everything works again once
the import is done, including functions imported from ``random`` at top level.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
from collections.abc import Callable, Iterator
from typing import Any

EIO = 29
_state = {"top_level": False}
_ALLOWED = ("Random", "SystemRandom")


def _entropy_error() -> OSError:
    return OSError(EIO, "Cannot get entropy outside of request context")


def _guard_urandom(original: Callable[[int], bytes]) -> Callable[[int], bytes]:
    @functools.wraps(original)
    def urandom(size: int) -> bytes:
        if _state["top_level"]:
            raise _entropy_error()
        return original(size)

    return urandom


def _guard_random(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _state["top_level"]:
            raise RuntimeError(f"Cannot use random.{name}() outside of request context")
        return original(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def top_level_scope() -> Iterator[None]:
    """Block entropy while the main module runs its top level."""
    import multiprocessing.process  # noqa: F401 - takes entropy on import; allowed on Cloudflare

    saved_urandom = os.urandom
    saved_random_urandom = getattr(random, "_urandom", None)
    saved: dict[str, Any] = {}
    for name in dir(random):
        value = getattr(random, name)
        if name.startswith("_") or name in _ALLOWED or not callable(value):
            continue
        if isinstance(value, type):
            continue
        saved[name] = value
        setattr(random, name, _guard_random(name, value))
    os.urandom = _guard_urandom(saved_urandom)
    if saved_random_urandom is not None:
        random._urandom = os.urandom  # type: ignore[attr-defined]  # SystemRandom's source
    _state["top_level"] = True
    try:
        yield
    finally:
        _state["top_level"] = False
        os.urandom = saved_urandom
        if saved_random_urandom is not None:
            random._urandom = saved_random_urandom  # type: ignore[attr-defined]
        for name, value in saved.items():
            setattr(random, name, value)
