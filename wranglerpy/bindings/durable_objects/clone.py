"""Structured clone for Durable Object storage values and RPC arguments/results.

Values are copied, never shared: a caller that mutates what it passed (or got back) does not
change the object's copy. Storage values are encoded with ``marshal`` (C speed, our own data
only): plain data goes as is, and the few richer types become tagged tuples, which user data
can never contain because tuples are stored as lists (as ``to_js`` turns them into arrays).
"""

from __future__ import annotations

import datetime as _dt
import inspect
import marshal
import types
from typing import Any

from wranglerpy.jsobject import JSObject

_DATETIME = "\x00dt"
_SET = "\x00set"
_PLAIN = (str, int, float, bool, type(None))
# Exact types stored as they are: a flat record or list of these needs no walk (the fast path
# of encode/decode; subclasses and containers take the full walk).
_SCALARS = frozenset({str, int, float, bool, type(None), bytes})
_KEYS = frozenset({str, int, float})


class DataCloneError(Exception):
    """A value that cannot be structured-cloned (V8's ``DataCloneError``)."""


def _unclonable(value: Any) -> DataCloneError:
    return DataCloneError(f"{type(value).__name__} object could not be cloned.")


def _to_stored(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int, float)):
                raise _unclonable(k)
            out[k] = _to_stored(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_to_stored(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return (_SET, [_to_stored(v) for v in value])
    if isinstance(value, _dt.datetime):
        return (_DATETIME, value.timestamp())
    to_py = getattr(value, "to_py", None)
    if to_py is not None and not isinstance(value, type):
        return _to_stored(to_py())
    raise _unclonable(value)


def _from_stored(value: Any) -> Any:
    if isinstance(value, dict):
        return JSObject({k: _from_stored(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_from_stored(v) for v in value]
    if isinstance(value, tuple):
        tag, payload = value
        if tag == _DATETIME:
            return _dt.datetime.fromtimestamp(payload)
        return {_from_stored(v) for v in payload}
    return value


def _flat(value: Any) -> bool:
    """A dict or list of scalars only (the usual record): marshal stores it as it is."""
    kind = type(value)
    scalars = _SCALARS
    if kind is dict:
        keys = _KEYS
        for k, v in value.items():
            if type(v) not in scalars or type(k) not in keys:
                return False
        return True
    if kind is list:
        for v in value:
            if type(v) not in scalars:
                return False
        return True
    return False


def encode(value: Any) -> bytes:
    """Serialise a storage value; ``DataCloneError`` for what JS could not clone either."""
    if type(value) in _SCALARS or _flat(value):
        return marshal.dumps(value)  # the common cases, without copying anything
    return marshal.dumps(_to_stored(value))


def decode(data: bytes) -> Any:
    value = marshal.loads(data)
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        scalars = _SCALARS
        for v in value.values():
            if type(v) not in scalars:
                return _from_stored(value)
        return JSObject(value)
    return _from_stored(value)


def _rpc_check(value: Any) -> None:
    """The Python SDK's refusals (workers-py ``_workers.py``, ``_raise_on_disabled_type``)."""
    if isinstance(value, (tuple, bytearray, types.LambdaType)):
        raise TypeError(f"{type(value)} cannot be sent over RPC.")
    if inspect.isawaitable(value):
        raise TypeError(f"Awaitable {type(value)} cannot be sent over RPC.")


def rpc_clone(value: Any) -> Any:
    """A copy of an RPC argument or result, as it arrives on the other side."""
    if isinstance(value, _PLAIN):
        return value
    _rpc_check(value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, dict):
        return {k: rpc_clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rpc_clone(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {rpc_clone(v) for v in value}
    if isinstance(value, _dt.datetime):
        return value.replace()
    if isinstance(value, BaseException):
        return Exception(str(value))
    if hasattr(value, "js_object") or hasattr(value, "toString"):
        return value  # Request/Response and ids travel as references
    to_py = getattr(value, "to_py", None)
    if to_py is not None and not isinstance(value, type):
        return rpc_clone(to_py())
    raise _unclonable(value)
