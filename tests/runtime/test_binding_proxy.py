"""``runtime/binding_proxy.py``: what a binding sees of the arguments its proxy passes on.

Plain arguments (``get("key")``, the usual call) go through as the very same objects, without
a rebuilt tuple; a proxy passed back in (``batch([stmt])``, a keyword argument) reaches the
binding unwrapped, so it only ever sees its own objects.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from wranglerpy.runtime.binding_proxy import BindingProxy, unwrap


class Recording(BindingProxy):
    __slots__ = ()

    def _wrap(self, target: Any) -> BindingProxy:
        return Recording(target)

    async def _around(self, method: str, args: tuple[Any, ...], awaitable: Awaitable[Any]) -> Any:
        return await awaitable


class Statement:
    pass


class Binding:
    def __init__(self) -> None:
        self.seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def call(self, *args: Any, **kwargs: Any) -> str:
        self.seen.append((args, kwargs))
        return "done"


async def test_plain_arguments_reach_the_binding_as_the_same_objects() -> None:
    binding = Binding()
    key, blob = "some-key", b"\x00bytes"
    assert await Recording(binding).call(key, blob, 3, 1.5, True, None) == "done"
    ((args, kwargs),) = binding.seen
    assert args == (key, blob, 3, 1.5, True, None) and kwargs == {}
    assert args[0] is key and args[1] is blob


async def test_proxies_in_arguments_and_keywords_are_unwrapped() -> None:
    binding = Binding()
    statement = Statement()
    proxied = Recording(statement)
    await Recording(binding).call("sql", [proxied, "x"], (proxied,), proxied, opts=proxied)
    ((args, kwargs),) = binding.seen
    assert args == ("sql", [statement, "x"], (statement,), statement)
    assert kwargs == {"opts": statement}
    assert unwrap(proxied) is statement


class Text(str):
    """A str subclass (as a JS string proxy could be): not a plain type, still passed as is."""


async def test_a_subclass_of_a_plain_type_is_passed_unchanged() -> None:
    binding = Binding()
    text = Text("v")
    await Recording(binding).call(text)
    assert binding.seen[0][0][0] is text
