"""A worker's frozen config as plain JSON and back, driven by the dataclasses' type hints.

Version snapshots store their config this way instead of pickling it: a pickle names classes
and modules, so an upgrade of wranglerpy that moves or reshapes one made every older version
unreadable (no history, no rollback). Here a field the stored data lacks takes its default (a
field added since), a stored field the class no longer has is ignored (one removed since), and
the file is data anyone can read.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

T = TypeVar("T")


class ConfigDataError(ValueError):
    """The stored data does not fit the config's shape."""


def to_data(value: Any) -> Any:
    """``value`` (dataclasses, paths, tuples, plain values) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def from_data(cls: type[T], data: Any) -> T:
    """Rebuild a ``cls`` (a dataclass) from :func:`to_data`'s output."""
    return typing.cast(T, _build(cls, data, cls.__name__))


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(kind: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any or kind is object:
        return data
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return _build(option, data, where)
            except ConfigDataError:
                continue
        raise ConfigDataError(f"{where}: {data!r} fits none of {kind}")
    if origin is typing.Literal:
        if data not in args:
            raise ConfigDataError(f"{where}: {data!r} is not one of {args}")
        return data
    if origin is tuple:
        if not isinstance(data, list):
            raise ConfigDataError(f"{where}: expected a list, got {data!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ConfigDataError(f"{where}: expected {len(args)} items, got {len(data)}")
        return tuple(
            _build(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if origin is dict:
        if not isinstance(data, dict):
            raise ConfigDataError(f"{where}: expected an object, got {data!r}")
        return {k: _build(args[1], v, f"{where}.{k}") for k, v in data.items()}
    if kind is Path:
        if not isinstance(data, str):
            raise ConfigDataError(f"{where}: expected a path, got {data!r}")
        return Path(data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise ConfigDataError(f"{where}: expected an object, got {data!r}")
        hints = _hints(kind)
        values = {
            f.name: _build(hints[f.name], data[f.name], f"{where}.{f.name}")
            for f in dataclasses.fields(kind)
            if f.init and f.name in data  # missing: a field added since, its default applies
        }
        try:
            return kind(**values)
        except TypeError as exc:
            raise ConfigDataError(f"{where}: {exc}") from None
    if kind in (str, int, float, bool):
        if kind is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
            raise ConfigDataError(f"{where}: expected {kind.__name__}, got {data!r}")
        return data
    if kind is type(None):
        if data is not None:
            raise ConfigDataError(f"{where}: expected null, got {data!r}")
        return None
    raise ConfigDataError(f"{where}: cannot rebuild a {kind!r}")
