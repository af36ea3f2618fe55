"""Message bodies: the four content types Cloudflare Queues accept, to bytes and back.

Checks and messages follow workerd src/workerd/api/queue.c++ (``validateContentType``,
``serialize``): ``text`` needs a string, ``bytes`` a bytes-like value, ``json`` a JSON value;
``v8`` (structured clone) is stored here as tagged JSON covering what crosses a Python
Worker's boundary: None, bool, int, float, str, bytes, list/tuple, dict with string keys and
datetime.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from typing import Any

from wranglerpy.jsobject import JSObject, as_js_object

CONTENT_TYPES = ("text", "bytes", "json", "v8")


def validate_content_type(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in CONTENT_TYPES:
        raise TypeError(f"Unsupported queue message content type: {value}")
    return value.lower()


def js_typeof(value: Any) -> str:
    """What JavaScript's ``typeof`` would say about ``value`` after the Python→JS hop."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if callable(value):
        return "function"
    return "object"


def encode(body: Any, content_type: str) -> bytes:
    if content_type == "text":
        if not isinstance(body, str):
            raise TypeError(
                'Content Type "text" requires a value of type string, but received: '
                + js_typeof(body)
            )
        return body.encode()
    if content_type == "bytes":
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(
                'Content Type "bytes" requires a value of type ArrayBufferView, but received: '
                + js_typeof(body)
            )
        return bytes(body)
    if content_type == "json":
        try:
            return json.dumps(_plain(body), separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Queue message body is not JSON-serializable: {exc}") from None
    return clone_dumps(body).encode()


def decode(data: bytes, content_type: str) -> Any:
    if content_type == "text":
        return data.decode()
    if content_type == "bytes":
        return bytes(data)
    if content_type == "json":
        return as_js_object(json.loads(data))
    return clone_loads(data)


def clone_dumps(value: Any) -> str:
    """Structured-clone-like text for ``value`` (TypeError for what JS cannot clone)."""
    return json.dumps(_tag(value), separators=(",", ":"))


def clone_loads(data: bytes | str) -> Any:
    return _untag(json.loads(data))


def _plain(value: Any) -> Any:
    if isinstance(value, JSObject):
        return value.to_py()
    return value


def _tag(value: Any) -> Any:
    """Structured-clone-like encoding; anything else is a DataCloneError, as in JS."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"$t": "bigint", "v": str(value)}
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"$t": "float", "v": repr(value)}
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$t": "bytes", "v": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, _dt.datetime):
        return {"$t": "date", "v": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"DataCloneError: object keys must be strings, got {key!r}")
        return {"$t": "object", "v": {k: _tag(v) for k, v in value.items()}}
    raise TypeError(f"DataCloneError: {type(value).__name__} object could not be cloned.")


def _untag(value: Any) -> Any:  # noqa: PLR0911 - one return per tag
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if isinstance(value, dict):
        kind, inner = value.get("$t"), value.get("v", "")
        if kind == "object":
            return JSObject({k: _untag(v) for k, v in inner.items()})
        if kind == "bytes":
            return base64.b64decode(inner)
        if kind == "date":
            return _dt.datetime.fromisoformat(inner)
        if kind == "bigint":
            return int(inner)
        if kind == "float":
            return float(inner)
    return value
