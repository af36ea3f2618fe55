"""Durable Object ids, derived as workerd derives them (``server/actor-id-impl.c++``).

The namespace key is ``sha256(unique_key)``, and ``unique_key`` is ``<worker>-<class>`` as
miniflare sets it (``plugins/do/namespaces.ts``), so the same name gives the same 64-hex id
as ``wrangler dev`` would, in every process and after every restart. An id is 16 bytes of base
(``HMAC(key, name)`` or random) followed by the first 16 bytes of ``HMAC(key, base)``, which
lets ``idFromString`` reject ids that belong to another namespace.
"""

from __future__ import annotations

import hashlib
import hmac
import os

BASE_LENGTH = 16
ID_LENGTH = 32


def unique_key(worker: str, class_name: str) -> str:
    return f"{worker}-{class_name}"


class DurableObjectId:
    """``DurableObjectId``: ``toString()`` is 64 hex digits; ``name`` is set for ids made by
    ``idFromName`` (``None`` otherwise, JS's ``undefined``)."""

    __slots__ = ("_hex", "name", "jurisdiction")

    def __init__(self, raw: bytes, name: str | None = None) -> None:
        self._hex = raw.hex()
        self.name = name
        self.jurisdiction: str | None = None

    def toString(self) -> str:  # noqa: N802 - the Workers name
        return self._hex

    def equals(self, other: object) -> bool:
        return isinstance(other, DurableObjectId) and other._hex == self._hex

    def __str__(self) -> str:
        return self._hex

    def __eq__(self, other: object) -> bool:
        return self.equals(other)

    def __hash__(self) -> int:
        return hash(self._hex)

    def __repr__(self) -> str:
        return f"DurableObjectId({self._hex})"


class IdFactory:
    """Makes and checks the ids of one namespace (one class of one worker)."""

    def __init__(self, key_source: str) -> None:
        self._key = hashlib.sha256(key_source.encode()).digest()

    def _mac(self, base: bytes) -> bytes:
        # hmac.digest: OpenSSL's one-shot HMAC, a fraction of hmac.new()'s cost per call.
        return hmac.digest(self._key, base, "sha256")[:BASE_LENGTH]

    def from_name(self, name: str) -> DurableObjectId:
        base = hmac.digest(self._key, name.encode(), "sha256")[:BASE_LENGTH]
        return DurableObjectId(base + self._mac(base), name)

    def new_unique(self) -> DurableObjectId:
        base = os.urandom(BASE_LENGTH)
        return DurableObjectId(base + self._mac(base))

    def from_string(self, text: str, name: str | None = None) -> DurableObjectId:
        if not isinstance(text, str) or len(text) != ID_LENGTH * 2:
            raise TypeError("Invalid Durable Object ID: must be 64 hex digits")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise TypeError("Invalid Durable Object ID: must be 64 hex digits") from None
        if not hmac.compare_digest(self._mac(raw[:BASE_LENGTH]), raw[BASE_LENGTH:]):
            raise TypeError("Durable Object ID is not valid for this namespace.")
        return DurableObjectId(raw, name)
