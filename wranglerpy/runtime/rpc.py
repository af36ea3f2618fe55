"""``python_to_rpc`` / ``python_from_rpc``: what may cross an RPC boundary, as the SDK checks
it (workers-py ``src/workers/rpc.py``): tuples, bytearrays and awaitables are refused with the
SDK's ``TypeError``; datetimes travel as JS ``Date``, exceptions as ``Error``; objects come back
as attribute-accessible dicts."""

from __future__ import annotations

import datetime
import inspect
from typing import Any

from wranglerpy.jsobject import as_js_object
from wranglerpy.runtime.buffers import JsType


class Date(JsType):
    """A JS ``Date``: ``Date.new(ms)``, ``Date.now()``, ``getTime()``, ``toISOString()``."""

    js_name = "Date"

    def __init__(self, ms: float | None = None) -> None:
        if ms is None:
            ms = datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000
        self._ms = float(ms)

    @staticmethod
    def new(value: Any = None) -> Date:
        if isinstance(value, str):
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return Date(parsed.timestamp() * 1000)
        return Date(value)

    @staticmethod
    def now() -> float:
        return float(int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000))

    def getTime(self) -> float:  # noqa: N802 - the JS name
        return self._ms

    def valueOf(self) -> float:  # noqa: N802 - the JS name
        return self._ms

    def toISOString(self) -> str:  # noqa: N802 - the JS name
        moment = datetime.datetime.fromtimestamp(self._ms / 1000, datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(self._ms % 1000):03d}Z"

    def __repr__(self) -> str:
        return f"Date({self.toISOString()})"


class JsError(JsType, Exception):
    """A JS ``Error`` carrying a Python exception's text across RPC."""

    js_name = "Error"

    def toString(self) -> str:  # noqa: N802 - the JS name
        return f"Error: {self}"

    @property
    def stack(self) -> str:
        """The JS ``stack`` text: the error's string, then where it was made."""
        text = f"Error: {self}" if str(self) else "Error"
        return f"{text}\n    at <python>"


def _refuse(value: Any) -> None:
    if callable(value) and not isinstance(value, type):
        return
    if isinstance(value, (tuple, bytearray)):
        raise TypeError(f"{type(value)} cannot be sent over RPC.")
    if inspect.isawaitable(value):
        raise TypeError(f"Awaitable {type(value)} cannot be sent over RPC.")
    if isinstance(value, dict):
        for item in value.values():
            _refuse(item)
    elif isinstance(value, (list, set, frozenset)):
        for item in value:
            _refuse(item)


def check_rpc_value(value: Any) -> None:
    """Raise the SDK's ``TypeError`` for what Python Workers refuse to send over RPC (tuples,
    bytearrays, awaitables), before the wire sees it (SDK/rpc.py:118-137)."""
    _refuse(value)


def python_to_rpc(value: Any) -> Any:
    """Check and convert a value for an RPC call or result."""
    _refuse(value)
    if isinstance(value, datetime.datetime):
        return Date(value.timestamp() * 1000)
    if isinstance(value, Exception) and not isinstance(value, JsError):
        return JsError(str(value))
    if isinstance(value, dict):
        return {k: python_to_rpc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [python_to_rpc(v) for v in value]
    return value


def python_from_rpc(value: Any) -> Any:
    """Convert a value received over RPC into Python (``Date`` → ``datetime``, objects → dicts
    with attribute access)."""
    if isinstance(value, Date):
        return datetime.datetime.fromtimestamp(value.getTime() / 1000)
    if isinstance(value, JsError):
        return Exception(value.toString())
    if isinstance(value, dict):
        return as_js_object({k: python_from_rpc(v) for k, v in value.items()})
    if isinstance(value, list):
        return [python_from_rpc(v) for v in value]
    return value
