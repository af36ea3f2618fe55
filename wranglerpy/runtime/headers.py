"""``Headers``: the Fetch API's case-insensitive, multi-valued header map."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from http.client import HTTPMessage
from typing import Any, Union

HeadersInit = Union["Headers", Mapping[str, str], Iterable[tuple[str, str]], None]


class Headers:
    """Case-insensitive headers that keep repeated values, like JS ``Headers``.

    ``get`` joins repeated values with ``", "`` as the Fetch API does (``Set-Cookie`` is the
    exception there too: use ``getSetCookie``). Iteration yields ``(name, value)`` pairs with
    lower-case names, so ``dict(headers)`` and ``for k, v in headers`` both work.
    """

    __slots__ = ("_items",)

    def __init__(self, init: HeadersInit | Any = None) -> None:
        self._items: list[tuple[str, str]] = []
        if init is None:
            return
        if isinstance(init, Headers):
            self._items = list(init._items)
            return
        pairs: Iterable[Any]
        if isinstance(init, Mapping):
            pairs = init.items()
        elif hasattr(init, "items") and callable(init.items):
            pairs = init.items()
        else:
            pairs = init
        for pair in pairs:
            name, value = pair
            self.append(name, value)

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Build from ASGI's ``[(b"name", b"value"), ...]`` without re-validating."""
        headers = cls()
        headers._items = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
        return headers

    def raw(self) -> list[tuple[bytes, bytes]]:
        """The ASGI form: lower-case names and values as latin-1 bytes."""
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._items]

    def append(self, name: str, value: Any) -> None:
        self._items.append((_name(name), _value(value)))

    def set(self, name: str, value: Any) -> None:
        key = _name(name)
        self._items = [(k, v) for k, v in self._items if k != key]
        self._items.append((key, _value(value)))

    def delete(self, name: str) -> None:
        key = _name(name)
        self._items = [(k, v) for k, v in self._items if k != key]

    def get(self, name: str, default: str | None = None) -> str | None:
        key = name.lower()
        values = [v for k, v in self._items if k == key]
        if not values:
            return default
        return ", ".join(values)

    def get_all(self, name: str) -> list[str]:
        key = name.lower()
        return [v for k, v in self._items if k == key]

    def getSetCookie(self) -> list[str]:  # noqa: N802 - the Fetch API's name
        return self.get_all("set-cookie")

    def has(self, name: str) -> bool:
        return name.lower() in self

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for k, _ in self._items:
            seen.setdefault(k, None)
        return list(seen)

    def values(self) -> list[str]:
        return [self.get(k) or "" for k in self.keys()]

    def items(self) -> list[tuple[str, str]]:
        return [(k, self.get(k) or "") for k in self.keys()]

    def entries(self) -> list[tuple[str, str]]:
        return self.items()

    def copy(self) -> Headers:
        return Headers(self)

    def js_entries(self) -> list[tuple[str, str]]:
        """What iterating JS ``Headers`` yields: sorted lower-case names, repeated values
        joined by ``", "``, except ``set-cookie`` whose values come one by one."""
        entries: list[tuple[str, str]] = []
        for name in sorted(self.keys()):
            if name == "set-cookie":
                entries.extend((name, v) for v in self.get_all(name))
            else:
                entries.append((name, self.get(name) or ""))
        return entries

    def message(self) -> HeadersCopy:
        """The copy Cloudflare's SDK hands to Python code (``request.headers``)."""
        return HeadersCopy(self)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower()
        return any(k == key for k, _ in self._items)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        self.delete(name)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self.keys())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._items) == sorted(other._items)
        if isinstance(other, Mapping):
            return dict(self.items()) == {k.lower(): v for k, v in other.items()}
        return NotImplemented

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def _name(name: str) -> str:
    if not isinstance(name, str) or not name or any(c in name for c in " \t\r\n:"):
        raise TypeError(f"Invalid header name: {name!r}")
    return name.lower()


def _value(value: Any) -> str:
    text = str(value)
    if "\r" in text or "\n" in text or "\0" in text:
        raise TypeError(f"Invalid header value: {text!r}")
    return text.strip(" \t")


class HeadersCopy(HTTPMessage):
    """``request.headers`` / ``response.headers`` as Cloudflare's Python SDK gives them: an
    ``http.client.HTTPMessage`` copy (``headers["x"]`` is ``None`` when missing, iteration
    yields names, changes do not reach the request). It also keeps the exact pairs, so the
    runtime can forward them unchanged (``raw()``)."""

    def __init__(self, source: Headers) -> None:
        super().__init__()
        self._items = list(source._items)
        for name, value in source.js_entries():
            self[name] = value.strip()

    def raw(self) -> list[tuple[bytes, bytes]]:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._items]

    def getSetCookie(self) -> list[str]:  # noqa: N802 - the Fetch API's name
        return [v for k, v in self._items if k == "set-cookie"]
