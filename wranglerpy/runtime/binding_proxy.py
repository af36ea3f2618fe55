"""A stand-in for a binding that sees every awaited call: the shared base of the latency
model's ``Delayed`` (``runtime/latency.py``), the span recorder's ``Traced``
(``tracing/binding_spans.py``) and the subrequest counter's ``Counted``
(``runtime/subrequests.py``).

Attribute reads and plain calls go through to the binding. A call that returns an awaitable
goes through the proxy's ``_around``; an object the binding hands out for further calls (a D1
statement from ``prepare()``) comes back wrapped alike; proxies passed back in as arguments
(``batch([...])``) are unwrapped first, so the binding only ever sees its own objects.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from types import CoroutineType
from typing import Any

# Argument types that are never proxies: checked by identity, the common case of a binding call
# (``get("key")``) skips the ABC ``isinstance`` and the rebuilt tuple.
_PLAIN = frozenset({str, bytes, int, float, bool, type(None)})


def unwrap(value: Any) -> Any:
    """``value`` without its outer proxy (inside lists and tuples too)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, BindingProxy):
        return value._target
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unwrap(v) for v in value)
    return value


def _unwrap_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` as is when every one is plain, else each unwrapped."""
    for value in args:
        if type(value) not in _PLAIN:
            return tuple(unwrap(v) for v in args)
    return args


def handed_out(value: Any) -> bool:
    """Objects that belong to a binding (a D1 statement), not data it returned."""
    module = type(value).__module__
    return module.startswith(("wranglerpy.bindings.", "wranglerpy.ai.")) and not isinstance(
        value, (dict, list, str, bytes)
    )


class BindingProxy(ABC):
    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    @abstractmethod
    def _wrap(self, target: Any) -> BindingProxy:
        """A proxy of the same kind around an object the binding handed out."""

    @abstractmethod
    async def _around(self, method: str, args: tuple[Any, ...], awaitable: Awaitable[Any]) -> Any:
        """Await ``awaitable`` (the result of ``method(*args)``) with the proxy's extra work."""

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                kwargs = {k: unwrap(v) for k, v in kwargs.items()}
            result = attribute(*_unwrap_args(args), **kwargs)
            if type(result) is CoroutineType or inspect.isawaitable(result):
                return self._around(name, args, result)
            if handed_out(result):
                return self._wrap(result)
            return result

        return call
