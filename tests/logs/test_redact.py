"""What tail never shows (issue 18, finding 15): pattern-based header and query redaction."""

from __future__ import annotations

import pytest

from wranglerpy.logs.redact import REDACTED_HEADERS, is_sensitive, redact_headers, redact_url
from wranglerpy.logs.tail_format import to_tail_event


@pytest.mark.parametrize(
    "name",
    [
        "authorization",
        "cookie",
        "x-api-key",
        "x-auth-token",
        "api-key",
        "cf-access-client-secret",
        "x-amz-security-token",
        "proxy-authorization",
        "x-session-id",
        "X-CSRF-Token",
    ],
)
def test_sensitive_headers(name: str) -> None:
    assert is_sensitive(name) and name in REDACTED_HEADERS


@pytest.mark.parametrize("name", ["accept", "content-type", "user-agent", "cf-connecting-ip"])
def test_ordinary_headers_stay(name: str) -> None:
    assert not is_sensitive(name) and name not in REDACTED_HEADERS


def test_redact_headers_keeps_names() -> None:
    got = redact_headers([("x-auth-token", "t0k"), ("accept", "*/*")])
    assert got == {"x-auth-token": "REDACTED", "accept": "*/*"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a/x?token=abc&page=2", "http://a/x?token=REDACTED&page=2"),
        ("http://a/x?access_token=abc", "http://a/x?access_token=REDACTED"),
        (
            "http://a/x?X-Amz-Signature=s&X-Amz-Credential=c",
            "http://a/x?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED",
        ),
        ("http://a/cb?code=123&state=s", "http://a/cb?code=REDACTED&state=s"),
        ("http://a/x?api%5Fkey=k", "http://a/x?api%5Fkey=REDACTED"),
        ("http://a/x?q=token", "http://a/x?q=token"),
        ("http://a/x", "http://a/x"),
        ("http://a/x?flag", "http://a/x?flag"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_tail_events_are_redacted_whatever_their_source() -> None:
    tail = to_tail_event(
        {
            "worker": "w",
            "method": "GET",
            "url": "http://w.localhost/?secret=s3",
            "headers": {"x-auth-token": "t", "accept": "*/*"},
            "status": 200,
        }
    )
    request = tail["event"]["request"]
    assert request["url"] == "http://w.localhost/?secret=REDACTED"
    assert request["headers"] == {"x-auth-token": "REDACTED", "accept": "*/*"}
