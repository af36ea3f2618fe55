"""Where an object runs, and how a call reaches it when that is another process.

The seam for the worker host's registry and wire: a :class:`Locator` says which process owns
an object (``None``: this one), and a :class:`Courier` carries an encoded call there and
brings the encoded result back (the wire's Durable Object frame kind). The owning process
answers with :meth:`ObjectHost.handle_call`. Until the host's registry lands every object is
local (:class:`LocalOnly`), so the stub never encodes anything.

A call is bytes so any wire can carry it: ``marshal`` of plain data, values passed through
the same structured clone as storage; an exception comes back as its type name and message.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import Any, Protocol

from wranglerpy.bindings.durable_objects import clone
from wranglerpy.runtime.service import remote_exception


@dataclass(frozen=True)
class ObjectAddress:
    """An object: its worker, class and id (with the name it was made from, if any)."""

    worker: str
    class_name: str
    object_id: str
    name: str | None = None


class Locator(Protocol):
    def owner(self, address: ObjectAddress) -> str | None:
        """The owning process's address on the wire, or None when it is this process."""


class Courier(Protocol):
    async def send(self, owner: str, address: ObjectAddress, call: bytes) -> bytes:
        """Deliver an encoded call to ``owner`` and return its encoded result."""


class LocalOnly:
    """Every object lives in this process (``dev`` with one process per worker)."""

    def owner(self, address: ObjectAddress) -> str | None:
        return None


def encode_call(method: str, args: list[Any], kwargs: dict[str, Any]) -> bytes:
    return marshal.dumps(("rpc", method, clone.encode(list(args)), clone.encode(dict(kwargs))))


def encode_fetch(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """A ``stub.fetch`` for another process, its body read whole (streams do not cross)."""
    # Plain str pairs: marshal refuses str subclasses (a header name type, a JS-like str).
    plain = [(str(name), str(value)) for name, value in headers]
    return marshal.dumps(("fetch", str(method), str(url), plain, bytes(body)))


def decode_call(data: bytes) -> tuple[Any, ...]:
    """``("rpc", method, args, kwargs)`` or ``("fetch", method, url, headers, body)``."""
    call = marshal.loads(data)
    if call[0] == "rpc":
        return ("rpc", str(call[1]), list(clone.decode(call[2])), dict(clone.decode(call[3])))
    return tuple(call)


def encode_result(value: Any = None, error: BaseException | None = None) -> bytes:
    if error is not None:
        return marshal.dumps(("error", type(error).__name__, str(error)))
    return marshal.dumps(("ok", clone.encode(value)))


def decode_result(data: bytes) -> Any:
    """The call's value, or its exception raised again under the same type name."""
    result = marshal.loads(data)
    if result[0] == "error":
        raise remote_exception(result[1], result[2])
    return clone.decode(result[1])
