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


def encode(value: Any) -> bytes:
    """Serialise a storage value; ``DataCloneError`` for what JS could not clone either."""
    if isinstance(value, str):
        return marshal.dumps(value)  # the common case, without walking anything
    return marshal.dumps(_to_stored(value))


def decode(data: bytes) -> Any:
    value = marshal.loads(data)
    if isinstance(value, _PLAIN) or isinstance(value, bytes):
        return value
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
