"""Parsing R2's option objects: httpMetadata, customMetadata, onlyIf conditions, ranges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wranglerpy.bindings.r2 import errors as e

# httpMetadata field -> the HTTP header it mirrors.
HTTP_FIELDS = {
    "contentType": "content-type",
    "contentLanguage": "content-language",
    "contentDisposition": "content-disposition",
    "contentEncoding": "content-encoding",
    "cacheControl": "cache-control",
    "cacheExpiry": "expires",
}


def _plain(value: Any) -> Any:
    return value.to_py() if hasattr(value, "to_py") and not isinstance(value, Mapping) else value


def to_millis(value: Any, what: str, op: str) -> int:
    """A Date-like value (datetime, epoch seconds) as epoch milliseconds."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int(value.timestamp() * 1000)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value * 1000)
    raise e.fail(op, e.INVALID_ARGUMENT, f"({what} must be a datetime, got {value!r})")


def from_millis(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)


def http_metadata(value: Any, op: str) -> dict[str, Any]:
    """httpMetadata from a dict of R2 field names or from a Headers-like object."""
    value = _plain(value)
    if value is None:
        return {}
    out: dict[str, Any] = {}
    if isinstance(value, Mapping) and not any(h in value for h in HTTP_FIELDS.values()):
        unknown = sorted(set(value) - set(HTTP_FIELDS))
        if unknown:
            raise e.fail(op, e.INVALID_ARGUMENT, f"(unknown httpMetadata fields: {unknown})")
        pairs = [(k, value[k]) for k in HTTP_FIELDS if value.get(k) is not None]
    elif hasattr(value, "get"):  # Headers, or a dict of header names
        pairs = [(k, value.get(h)) for k, h in HTTP_FIELDS.items() if value.get(h) is not None]
    else:
        raise e.fail(op, e.INVALID_ARGUMENT, "(httpMetadata must be a dict or Headers)")
    for field, raw in pairs:
        if field == "cacheExpiry":
            if isinstance(raw, str):
                from email.utils import parsedate_to_datetime

                try:
                    raw = parsedate_to_datetime(raw)
                except (TypeError, ValueError):
                    raise e.fail(op, e.INVALID_ARGUMENT, f"(bad expires date {raw!r})") from None
            out[field] = to_millis(raw, "cacheExpiry", op)
        elif isinstance(raw, str):
            out[field] = raw
        else:
            raise e.fail(op, e.INVALID_ARGUMENT, f"(httpMetadata.{field} must be a string)")
    return out


def custom_metadata(value: Any, op: str) -> dict[str, str]:
    value = _plain(value)
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise e.fail(op, e.INVALID_ARGUMENT, "(customMetadata must map strings to strings)")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in value.items())
    if size > e.MAX_CUSTOM_METADATA_SIZE:
        raise e.fail(op, e.METADATA_TOO_LARGE, f"({size} bytes > {e.MAX_CUSTOM_METADATA_SIZE})")
    return dict(value)


@dataclass(frozen=True)
class Conditions:
    """``onlyIf``: HTTP's If-Match / If-None-Match / If-Unmodified-Since / If-Modified-Since."""

    etag_matches: tuple[str, ...] | None = None
    etag_does_not_match: tuple[str, ...] | None = None
    uploaded_before: int | None = None  # ms
    uploaded_after: int | None = None  # ms

    def passes(self, etag: str | None, uploaded: int | None) -> bool:
        """Whether an object with ``etag``/``uploaded`` (None: no object) meets the conditions."""
        if etag is None or uploaded is None:
            # Nothing to compare with: only conditions that need an object fail.
            return self.etag_matches is None and self.uploaded_after is None
        if self.etag_matches is not None and not _etag_in(etag, self.etag_matches):
            return False
        if self.etag_does_not_match is not None and _etag_in(etag, self.etag_does_not_match):
            return False
        # As RFC 9110 says, a date condition is ignored when its etag partner is present.
        uploaded_s = uploaded // 1000  # HTTP dates have one-second granularity
        if (
            self.uploaded_before is not None
            and self.etag_matches is None
            and uploaded_s > self.uploaded_before // 1000
        ):
            return False
        return not (
            self.uploaded_after is not None
            and self.etag_does_not_match is None
            and uploaded_s <= self.uploaded_after // 1000
        )


def _etag_in(etag: str, candidates: tuple[str, ...]) -> bool:
    return any(c == "*" or c == etag for c in candidates)


def _etags(value: Any, op: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise e.fail(op, e.INVALID_ARGUMENT, f"(etag conditions must be strings: {item!r})")
        for part in item.split(","):
            tag = part.strip()
            if tag.startswith("W/"):
                tag = tag[2:]
            out.append(tag.strip('"'))
    return tuple(out)


def conditions(value: Any, op: str) -> Conditions | None:
    value = _plain(value)
    if value is None:
        return None
    if not isinstance(value, Mapping) and hasattr(value, "get"):  # Headers
        from email.utils import parsedate_to_datetime

        def date(name: str) -> int | None:
            raw = value.get(name)
            return None if raw is None else to_millis(parsedate_to_datetime(raw), name, op)

        return Conditions(
            _etags(value.get("if-match"), op),
            _etags(value.get("if-none-match"), op),
            date("if-unmodified-since"),
            date("if-modified-since"),
        )
    if not isinstance(value, Mapping):
        raise e.fail(op, e.INVALID_ARGUMENT, "(onlyIf must be a dict or Headers)")
    known = {"etagMatches", "etagDoesNotMatch", "uploadedBefore", "uploadedAfter"}
    unknown = sorted(set(value) - known - {"secondsGranularity"})
    if unknown:
        raise e.fail(op, e.INVALID_ARGUMENT, f"(unknown onlyIf fields: {unknown})")

    def when(name: str) -> int | None:
        raw = value.get(name)
        return None if raw is None else to_millis(raw, name, op)

    return Conditions(
        _etags(value.get("etagMatches"), op),
        _etags(value.get("etagDoesNotMatch"), op),
        when("uploadedBefore"),
        when("uploadedAfter"),
    )


def byte_range(value: Any, size: int, op: str) -> tuple[int, int] | None:
    """``(offset, length)`` for ``{offset, length}`` / ``{suffix}``; None for the whole object."""
    value = _plain(value)
    if value is None:
        return None
    if not isinstance(value, Mapping) and hasattr(value, "get"):  # a request's Headers
        header = value.get("range")
        if header is None:
            return None
        value = _range_header(header, op)
    if not isinstance(value, Mapping):
        raise e.fail(op, e.INVALID_ARGUMENT, "(range must be {offset, length} or {suffix})")
    for name in ("offset", "length", "suffix"):
        raw = value.get(name)
        if raw is not None and (not isinstance(raw, int) or isinstance(raw, bool) or raw < 0):
            raise e.fail(op, e.INVALID_RANGE, f"({name} must be a non-negative integer)")
    suffix = value.get("suffix")
    if suffix is not None:
        if value.get("offset") is not None or value.get("length") is not None:
            raise e.fail(op, e.INVALID_RANGE, "(suffix cannot be combined with offset/length)")
        length = min(suffix, size)
        return size - length, length
    offset = value.get("offset") or 0
    if offset > size or (offset == size and size > 0):
        raise e.fail(op, e.INVALID_RANGE, f"(offset {offset} is past the object's {size} bytes)")
    length = value.get("length")
    if length is None:
        return offset, size - offset
    if length == 0:
        raise e.fail(op, e.INVALID_RANGE, "(length must be positive)")
    return offset, min(length, size - offset)


def _range_header(header: str, op: str) -> dict[str, int]:
    """``Range: bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` as R2's range object (one range)."""
    unit, _, spec = header.strip().partition("=")
    first, dash, last = spec.strip().partition("-")
    try:
        if unit.strip().lower() != "bytes" or not dash or "," in spec:
            raise ValueError
        if not first:
            return {"suffix": int(last)}
        offset = int(first)
        if not last:
            return {"offset": offset}
        if int(last) < offset:
            raise ValueError
        return {"offset": offset, "length": int(last) - offset + 1}
    except ValueError:
        raise e.fail(op, e.INVALID_RANGE, f"(Range header {header!r})") from None
