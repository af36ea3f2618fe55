"""Cloudflare KV's limits, checked with Cloudflare's wording (``KV PUT failed: 413 ...``)."""

from __future__ import annotations

import json
import math
from typing import Any

from wranglerpy.errors import BindingError

MAX_KEY_SIZE = 512
MAX_VALUE_SIZE = 25 * 1024 * 1024
MAX_METADATA_SIZE = 1024
MIN_EXPIRATION_TTL = 60
MIN_CACHE_TTL = 30
MAX_LIST_KEYS = 1000
MAX_BULK_KEYS = 100
GET_TYPES = ("text", "json", "arrayBuffer", "stream")


class KVError(BindingError):
    """A KV call was rejected, as Cloudflare rejects it (same status and message)."""


class KVKeyError(KVError, TypeError):
    """A key name workerd refuses before any request (``TypeError``, kv.c++ validateKeyName)."""


def fail(op: str, status: int, message: str) -> KVError:
    return KVError(f"KV {op} failed: {status} {message}")


def check_key(op: str, key: Any) -> bytes:
    """The key's UTF-8 bytes, or the error Cloudflare gives for it."""
    if not isinstance(key, str):
        raise KVError(f"KV {op} failed: key must be a string, got {type(key).__name__}")
    if key == "":
        raise KVKeyError("Key name cannot be empty.")
    if key in (".", ".."):
        raise KVKeyError(f'"{key}" is not allowed as a key name.')
    encoded = key.encode("utf-8", "surrogatepass")
    if len(encoded) > MAX_KEY_SIZE:
        raise fail(
            op,
            414,
            f"UTF-8 encoded length of {len(encoded)} exceeds key length limit of {MAX_KEY_SIZE}.",
        )
    return encoded


def check_value_size(length: int) -> None:
    if length > MAX_VALUE_SIZE:
        raise fail("PUT", 413, f"Value length of {length} exceeds limit of {MAX_VALUE_SIZE}.")


def encode_metadata(metadata: Any) -> str | None:
    """Metadata serialised as JSON (at most 1024 bytes), or None when there is none."""
    if metadata is None:
        return None
    try:
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise KVError(f"KV PUT failed: metadata must be JSON-serialisable ({exc})") from None
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_SIZE:
        raise fail("PUT", 413, f"Metadata length of {size} exceeds limit of {MAX_METADATA_SIZE}.")
    return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _shown(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def expiration_from(options: dict[str, Any], now: float) -> int | None:
    """The absolute expiry (epoch seconds) asked for by ``expiration``/``expirationTtl``."""
    ttl_raw = options.get("expirationTtl")
    exp_raw = options.get("expiration")
    if ttl_raw is not None:
        ttl = _number(ttl_raw)
        if ttl is None or math.isnan(ttl) or ttl <= 0:
            raise fail(
                "PUT",
                400,
                f"Invalid expiration_ttl of {_shown(ttl_raw)}. "
                "Please specify integer greater than 0.",
            )
        if ttl < MIN_EXPIRATION_TTL:
            raise fail(
                "PUT",
                400,
                f"Invalid expiration_ttl of {_shown(ttl_raw)}. "
                f"Expiration TTL must be at least {MIN_EXPIRATION_TTL}.",
            )
        return int(now) + int(ttl)
    if exp_raw is not None:
        exp = _number(exp_raw)
        if exp is None or math.isnan(exp) or exp <= 0:
            raise fail(
                "PUT",
                400,
                f"Invalid expiration of {_shown(exp_raw)}. Please specify integer greater "
                "than the current number of seconds since the UNIX epoch.",
            )
        if exp < now + MIN_EXPIRATION_TTL:
            raise fail(
                "PUT",
                400,
                f"Invalid expiration of {_shown(exp_raw)}. Expiration times must be at least "
                f"{MIN_EXPIRATION_TTL} seconds in the future.",
            )
        return int(exp)
    return None


def get_type(op: str, value: Any) -> str:
    kind = "text" if value is None else value
    if kind not in GET_TYPES:
        raise KVError(
            f'KV {op} failed: Unknown response type "{kind}". '
            'Possible types are "text", "arrayBuffer", "json", and "stream".'
        )
    return str(kind)


def check_cache_ttl(op: str, value: Any) -> None:
    if value is None:
        return
    ttl = _number(value)
    if ttl is None or ttl < MIN_CACHE_TTL:
        raise fail(
            op,
            400,
            f"Invalid cache_ttl of {_shown(value)}. Cache TTL must be at least {MIN_CACHE_TTL}.",
        )


def list_limit(value: Any) -> int:
    if value is None:
        return MAX_LIST_KEYS
    limit = _number(value)
    if limit is None or limit <= 0 or not limit.is_integer():
        raise fail(
            "LIST",
            400,
            f"Invalid key_count_limit of {_shown(value)}. "
            "Please specify an integer greater than 0.",
        )
    if limit > MAX_LIST_KEYS:
        raise fail(
            "LIST",
            400,
            f"Invalid key_count_limit of {_shown(value)}. "
            f"Please specify an integer less than {MAX_LIST_KEYS}.",
        )
    return int(limit)
