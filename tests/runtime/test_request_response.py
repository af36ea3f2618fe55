import json

import pytest

from wranglerpy.runtime.body import BodyUsedError
from wranglerpy.runtime.request_response import Request, Response


async def test_response_json_static_and_instance():
    response = Response.json({"a": 1}, status=201, headers={"x-y": "z"})
    assert response.status == 201
    assert response.headers.get("content-type") == "application/json"
    assert await response.json() == {"a": 1}


async def test_text_body_sets_content_type_and_reads_once():
    response = Response("héllo")
    assert response.headers.get("content-type") == "text/plain;charset=UTF-8"
    assert await response.text() == "héllo"
    with pytest.raises(BodyUsedError):
        await response.text()


async def test_streamed_body_from_async_generator():
    async def produce():
        yield "a"
        yield b"b"

    response = Response(produce(), headers={"content-type": "text/event-stream"})
    assert not response.is_buffered()
    assert [chunk async for chunk in response.body] == [b"a", b"b"]
    assert response.bodyUsed


def test_invalid_status_rejected():
    with pytest.raises(ValueError, match="200 to 599"):
        Response("x", status=42)


def test_json_body_needs_response_json():
    with pytest.raises(TypeError, match="Unsupported type in Response: dict"):
        Response({"a": 1})


async def test_request_copy_with_overrides_keeps_body():
    original = Request("http://x/a?b=1", method="POST", body=json.dumps({"k": 1}))
    copy = Request(original, headers={"x-extra": "1"})
    assert copy.method == "POST"
    assert copy.url == "http://x/a?b=1"
    assert copy.headers.get("x-extra") == "1"
    assert await copy.json() == {"k": 1}


def test_request_needs_absolute_url_and_no_body_on_get():
    with pytest.raises(TypeError, match="Invalid URL: /relative"):
        Request("/relative")
    with pytest.raises(TypeError, match="GET or HEAD"):
        Request("http://x/", body="nope")


def test_redirect():
    response = Response.redirect("http://x/next", 301)
    assert response.status == 301
    assert response.headers.get("location") == "http://x/next"


async def test_closing_a_body_closes_its_source():
    closed = []

    async def produce():
        try:
            yield b"a"
            yield b"b"
        finally:
            closed.append(True)

    body = Response(produce()).body
    assert await body.__anext__() == b"a"
    await body.aclose()
    assert closed == [True]
