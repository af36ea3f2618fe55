"""Dicts that also read like JS objects, as Cloudflare Python Workers' results do.

Binding results (``result.results[0]``, ``result["meta"]["changes"]``) are plain data
that allow both item and attribute access, recursively.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class JSObject(dict[str, Any]):
    """A ``dict`` whose keys are also attributes. Missing attributes raise AttributeError.

    A key wins over a dict method of the same name (``result.keys`` on a KV list result is
    the list of keys, as in JS); call the method through ``dict`` if you need it.
    """

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("__") and dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_py(self) -> dict[str, Any]:
        """Plain Python data, as ``JsProxy.to_py()`` gives on Cloudflare."""
        plain: dict[str, Any] = _to_py(self)
        return plain


class JSArray(list[Any]):
    """A ``list`` that is also what a JS array is from Python: ``to_py()`` gives plain data."""

    __slots__ = ()

    def to_py(self) -> list[Any]:
        """Plain Python data, as ``JsProxy.to_py()`` gives on Cloudflare."""
        plain: list[Any] = _to_py(self)
        return plain


def _to_py(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _to_py(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_py(v) for v in value]
    return value


def as_js_object(value: Any) -> Any:
    """Wrap mappings (recursively, also inside lists) as :class:`JSObject`."""
    if isinstance(value, JSObject):
        return value
    if isinstance(value, Mapping):
        return JSObject({k: as_js_object(v) for k, v in value.items()})
    if isinstance(value, list):
        return [as_js_object(v) for v in value]
    return value


def options(opts: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Merge a JS-style options argument (dict, object or None) with keyword arguments.

    ``env.KV.put(k, v, {"expirationTtl": 60})`` and ``env.KV.put(k, v, expirationTtl=60)``
    mean the same; keywords win on a clash.
    """
    merged: dict[str, Any] = {}
    if opts is not None:
        if isinstance(opts, Mapping):
            merged.update(opts)
        elif hasattr(opts, "to_py"):  # a Pyodide JsProxy on the real runtime
            merged.update(opts.to_py())
        else:
            raise TypeError(f"options must be a dict, got {type(opts).__name__}")
    merged.update(kwargs)
    return merged
