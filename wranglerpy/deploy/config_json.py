"""A version's ``WorkerConfig`` as plain JSON (``config.json``), not a pickle.

A pickle names wranglerpy's classes and breaks when they change; JSON of the field values
survives an upgrade: fields the new code no longer has are dropped, fields it added take
their defaults. Encoding follows the dataclasses' type hints, so a new config field needs
no change here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import DeployError

FORMAT = 1


def encode(config: WorkerConfig) -> dict[str, Any]:
    return {"format": FORMAT, "config": _encode(config)}


def decode(data: Any, where: Path) -> WorkerConfig:
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise DeployError(f"{where} is not a version config (no `config` object).")
    try:
        config = _decode(WorkerConfig, data["config"])
    except (TypeError, ValueError, KeyError) as exc:
        raise DeployError(f"{where} does not describe a worker config ({exc}).") from None
    assert isinstance(config, WorkerConfig)
    return config


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # e.g. a TOML date in [vars]: a worker sees vars as JSON anyway


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        last: Exception | None = None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _decode(arg, value)
            except (TypeError, ValueError, KeyError) as exc:
                last = exc
        raise last or TypeError(f"no type of {kind} fits {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"{value!r} is not one of {args}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if origin is dict:
        return {k: _decode(args[1], v) for k, v in value.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {kind.__name__}, got {value!r}")
        hints = _hints(kind)
        known = {f.name for f in dataclasses.fields(kind) if f.init}
        return kind(**{k: _decode(hints[k], v) for k, v in value.items() if k in known})
    if kind is Path:
        return Path(value)
    if kind in (object, Any):
        return value
    if kind is float and isinstance(value, int):
        return float(value)
    if isinstance(kind, type) and not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value
