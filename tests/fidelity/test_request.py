"""``workers.Request`` and the headers copy it hands out."""

from __future__ import annotations

from http import HTTPMethod
from http.client import HTTPMessage

import pytest
from workers import FormData, Request


def test_options_are_keywords_only() -> None:
    """SDK/request.py:21-23: Request(input, **FetchKwargs); no positional init dict."""
    request = Request("https://example.com/a", method="POST", body="x", headers={"X-A": "1"})
    assert request.method == "POST" and request.url == "https://example.com/a"
    with pytest.raises(TypeError):
        Request("https://example.com/", {"method": "POST"})  # type: ignore[call-arg]


def test_method_is_an_http_method() -> None:
    """SDK/request.py:103-105: HTTPMethod[js method]."""
    request = Request("https://example.com/", method=HTTPMethod.PUT, body="x")
    assert request.method is HTTPMethod.PUT


def test_headers_are_an_http_message_copy() -> None:
    """SDK/request.py:87-89 and SDK/utils.py:184-204: an http.client.HTTPMessage built from the
    JS headers: None for a missing name, iteration yields names, changes do not stick."""
    request = Request("https://example.com/", headers=[("X-B", "2"), ("x-a", "1"), ("x-a", "3")])
    headers = request.headers
    assert isinstance(headers, HTTPMessage)
    assert headers["missing"] is None
    assert list(headers) == ["x-a", "x-b"]  # JS Headers iterate sorted, lower-case
    assert headers["X-A"] == "1, 3"
    headers["x-new"] = "1"
    assert request.headers["x-new"] is None


async def test_body_used_and_oserror() -> None:
    """SDK/request.py:57-59 body_used; 127-131 OSError("Body already used")."""
    request = Request("https://example.com/", method="POST", body="hi")
    assert not request.body_used
    assert await request.text() == "hi"
    assert request.body_used
    with pytest.raises(OSError, match="^Body already used$"):
        await request.bytes()
    with pytest.raises(OSError, match="^Body already used$"):
        request.clone()


async def test_buffer_form_data_and_blob() -> None:
    """SDK/request.py:141-155: buffer() → ArrayBuffer, form_data() → FormData, blob()."""
    request = Request(
        "https://example.com/",
        method="POST",
        body="a=1&a=2&b=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    copy = request.clone()
    form = await request.form_data()
    assert isinstance(form, FormData) and form["a"] == "1" and form.get_all("a") == ["1", "2"]
    assert (await copy.buffer()).to_bytes() == b"a=1&a=2&b=x"


async def test_form_data_of_other_content_is_workerd_type_error() -> None:
    """workerd/src/workerd/api/form-data.c++:306-309."""
    request = Request("https://example.com/", method="POST", body="{}")
    with pytest.raises(TypeError, match="FormData can only parse the following MIME types"):
        await request.form_data()


async def test_clone_of_a_streamed_body() -> None:
    """SDK/request.py:161-167: clone() of any request (JS tees the stream)."""

    async def chunks():
        yield b"one "
        yield b"two"

    request = Request("https://example.com/", method="POST", body=chunks())
    copy = request.clone()
    assert await copy.text() == "one two"
    assert await request.text() == "one two"


def test_get_with_body_is_refused() -> None:
    """workerd/src/workerd/api/http.c++: a GET/HEAD request cannot have a body."""
    with pytest.raises(TypeError, match="GET or HEAD"):
        Request("https://example.com/", body="x")


def test_cf_is_none_on_constructed_requests_and_an_object_when_given() -> None:
    """SDK/request.py:61-73: request.cf is None without cf, attribute access otherwise."""
    assert Request("https://example.com/").cf is None
    request = Request("https://example.com/", cf={"cacheTtl": 5, "image": {"width": 3}})
    assert request.cf.cacheTtl == 5 and request.cf.image.width == 3


CF_WORKER = """
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        cf = request.cf
        return Response(f"{cf.country} {cf.colo} {cf.tlsClientAuth.certVerified} "
                        f"{request.headers['x-missing']} {request.method.name}")
"""


async def test_incoming_request_cf_has_wrangler_devs_local_values(harness) -> None:
    """SDK/request.py:61-73 (cf read by attribute); workers-sdk miniflare src/cf.ts fallbackCf
    (what wrangler dev gives offline)."""
    async with harness.build(CF_WORKER) as client:
        response = await client.get("/")
    assert response.text == "US DFW NONE None GET"


def test_the_sdks_private_js_request_name() -> None:
    """The SDK (workerd ``src/pyodide/internal/workers-api/src/workers/_workers.py:725-746``)
    keeps the JS request as ``_js_request`` (``js_object``);
    django-cf reads ``request._js_request.arrayBuffer()``."""
    from workers import Request

    request = Request("https://example.com/", method="POST", body="x")
    assert request._js_request is request.js_object
