"""What ``tail`` and the request log never show: credentials in headers and query strings.

A header is sensitive when its name contains one of :data:`SENSITIVE_WORDS` (``*auth*``,
``*token*``, ``*secret*``, ``*key*``, cookies, sessions, passwords), so ``X-Auth-Token``,
``Api-Key``, ``CF-Access-Client-Secret`` and ``X-Amz-Security-Token`` are hidden along with
``Authorization`` and ``Cookie``. A query parameter is sensitive by the same rule, plus the
short names used for signed URLs and OAuth codes (``sig``, ``code``, ...). Values are replaced
by ``REDACTED``; names stay, so a reader still sees what was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote_plus, urlsplit

REDACTED = "REDACTED"
SENSITIVE_WORDS = (
    "auth",
    "token",
    "secret",
    "key",
    "cookie",
    "session",
    "passw",
    "credential",
    "signature",
)
_SENSITIVE = re.compile("|".join(SENSITIVE_WORDS), re.IGNORECASE)
# Whole query parameter names that carry credentials without saying so.
_SENSITIVE_PARAMS = frozenset({"sig", "code", "pass", "pwd", "jwt", "x-amz-signature"})


def is_sensitive(name: str) -> bool:
    """True for a header (or query parameter) name whose value must not be shown."""
    return bool(_SENSITIVE.search(name))


class _SensitiveHeaders:
    """Set-like: ``name in REDACTED_HEADERS`` applies the pattern rule to a header name."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and is_sensitive(name)

    def __repr__(self) -> str:
        return f"<header names matching {'|'.join(SENSITIVE_WORDS)}>"


REDACTED_HEADERS = _SensitiveHeaders()


def redact_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{name: value}`` with sensitive values replaced (names lower-cased as given)."""
    return {k: (REDACTED if is_sensitive(k) else v) for k, v in items}


def _param_sensitive(name: str) -> bool:
    plain = unquote_plus(name)
    return is_sensitive(plain) or plain.lower() in _SENSITIVE_PARAMS


def redact_url(url: str) -> str:
    """``url`` with the values of sensitive query parameters replaced; the rest unchanged."""
    base, sep, rest = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = rest.partition("#")
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        parts.append(f"{name}={REDACTED}" if eq and _param_sensitive(name) else part)
    redacted = "&".join(parts)
    if hash_sep:
        # A fragment is never sent by a browser, but a hand-written client may; keep it only
        # when it does not look like a token (OAuth implicit flow puts them there).
        fragment = quote(REDACTED) if "=" in fragment else fragment
    return f"{base}?{redacted}{hash_sep}{fragment}"


def redact_url_credentials(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***`` (backend
    URLs such as ``s3://KEY:SECRET@host`` or ``redis://:PASSWORD@host``); the rest unchanged."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


__all__ = [
    "REDACTED",
    "REDACTED_HEADERS",
    "is_sensitive",
    "redact_headers",
    "redact_url",
    "redact_url_credentials",
]
