"""``workers.Response``: constructor, accepted bodies, JSON, redirects, bodies read once."""

from __future__ import annotations

import json

import pytest
from js import ReadableStream, TextEncoder, URLSearchParams
from js import Response as JsResponse
from pyodide.ffi import to_js
from workers import Blob, FormData, Response


def test_second_positional_argument_is_the_status() -> None:
    """SDK/response.py:146-153: Response(body, status, status_text, headers, web_socket)."""
    response = Response("nf", 404, "Nope", {"x-a": "1"})
    assert (response.status, response.status_text, response.headers["x-a"]) == (404, "Nope", "1")


def test_status_text_defaults_to_empty() -> None:
    """SDK/response.py:210-211: statusText is only set when given (JS default is "")."""
    assert Response("x", 404).status_text == ""


async def test_async_generator_body_is_refused_as_on_cloudflare() -> None:
    """SDK/response.py:161-166: a Python object that is not str/bytes/FormData is refused."""

    async def events():
        yield b"data: 1\n\n"

    with pytest.raises(TypeError, match="^Unsupported type in Response: async_generator$"):
        Response(events())


@pytest.mark.parametrize(
    ("body", "name"),
    [({"a": 1}, "dict"), ([b"a"], "list"), (bytearray(b"a"), "bytearray"), (3, "int")],
)
def test_other_python_bodies_are_refused(body: object, name: str) -> None:
    """SDK/response.py:165-166 (str | FormData | bytes only among Python types)."""
    with pytest.raises(TypeError, match=f"Unsupported type in Response: {name}$"):
        Response(body)


async def test_js_bodies_are_accepted() -> None:
    """SDK/utils.py:21-44 RESPONSE_ACCEPTED_TYPES: Blob, ArrayBuffer, Uint8Array, FormData,
    ReadableStream, URLSearchParams, Response."""
    assert await Response(Blob(["ab"], "text/x")).text() == "ab"
    assert await Response(to_js(b"buf")).text() == "buf"
    assert await Response(URLSearchParams({"q": "a b"})).text() == "q=a+b"

    def start(controller):
        controller.enqueue(TextEncoder.new().encode("streamed"))
        controller.close()

    assert await Response(ReadableStream.new(start=start)).text() == "streamed"
    form = FormData({"k": "v"})
    response = Response(form)
    assert response.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert (await response.form_data())["k"] == "v"


def test_response_from_js_response_takes_no_options() -> None:
    """SDK/response.py:169-173: ValueError when options accompany a js.Response."""
    inner = JsResponse.new("x", status=201)
    assert Response(inner).status == 201
    with pytest.raises(ValueError, match="Expected no options"):
        Response(inner, 404)


async def test_json_uses_json_dumps_and_positional_status() -> None:
    """SDK/response.py:107-137: Response.json(data, status) → from_json, json.dumps text."""
    response = Response.json({"a": [1, 2]}, 201)
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    assert await response.text() == json.dumps({"a": [1, 2]})  # '{"a": [1, 2]}', spaces kept


async def test_instance_json_reads_the_body() -> None:
    """SDK/response.py:132-134: on an instance, json() parses the body."""
    assert await Response('{"k": 1}').json() == {"k": 1}


def test_redirect_status_and_location() -> None:
    """SDK/response.py:99-105: js Response.redirect(url, code); RangeError → ValueError."""
    response = Response.redirect("https://example.com/next", 301)
    assert response.status == 301 and response.headers["location"] == "https://example.com/next"
    with pytest.raises(ValueError):
        Response.redirect("https://example.com/", 200)


def test_status_out_of_range_is_a_value_error() -> None:
    """workerd/src/workerd/api/http.c++:1058-1059 RangeError, SDK/utils.py:117-121 ValueError."""
    with pytest.raises(ValueError, match="range 200 to 599, inclusive"):
        Response("x", 42)


@pytest.mark.parametrize("status", [204, 205, 304])
def test_null_body_statuses_refuse_a_body(status: int) -> None:
    """workerd/src/workerd/api/http.c++:1089: null-body statuses cannot carry a body."""
    with pytest.raises(TypeError, match="null body status"):
        Response("x", status)
    assert Response(None, status).status == status


async def test_body_is_read_once_then_oserror() -> None:
    """Pyodide http.py FetchResponse._raise_if_failed: OSError once the body is used."""
    response = Response("x")
    assert not response.body_used
    assert await response.text() == "x"
    assert response.body_used
    with pytest.raises(OSError, match="already used"):
        await response.text()


async def test_buffer_blob_and_clone() -> None:
    """SDK/response.py:90-92 blob(); Pyodide FetchResponse.buffer()/clone()."""
    response = Response(b"abc", headers={"content-type": "text/plain"})
    copy = response.clone()
    assert (await response.buffer()).to_bytes() == b"abc"
    blob = await copy.blob()
    assert blob.size == 3 and blob.content_type == "text/plain"


def test_headers_of_wrong_type_are_refused() -> None:
    """SDK/utils.py:172-181: headers must be a dict, a list of pairs or js Headers."""
    with pytest.raises(TypeError, match="unexpected type for headers"):
        Response("x", headers=42)


def test_null_body_status_from_js_response_new_is_a_js_type_error() -> None:
    """workerd http.c++:1089 through js.Response.new."""
    from pyodide.ffi import JsException

    with pytest.raises(JsException, match="null body status"):
        JsResponse.new("x", status=204)


async def test_an_asgi_apps_empty_204_is_relayed(harness, tmp_path) -> None:
    """A main-module ASGI app answering 204 (its empty body chunk included) reaches a caller
    through a service binding as a 204 with no body."""
    import os

    from wranglerpy.config.schema import ServiceBinding
    from wranglerpy.host.locations import Locations, WorkerLocation
    from wranglerpy.runtime.service import ServiceFetcher

    harness.build(
        """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
"""
    )
    registry = Locations(tmp_path / "registry")
    socket = await harness.serve_wire()
    registry.register(WorkerLocation("target", "target", None, socket, "http://t", os.getpid()))
    service = ServiceFetcher(ServiceBinding("TARGET", "target"), "caller", registry)
    try:
        response = await service.fetch("http://t/", method="OPTIONS")
        assert response.status == 204 and await response.bytes() == b""
    finally:
        await service.aclose()


@pytest.mark.parametrize("body", ["", b""])
def test_a_null_body_status_lets_an_empty_buffer_through(body) -> None:
    """workerd ``api/http.c++:1077-1093``: a zero-length, buffer-backed body with a null-body
    status is allowed (for old Workers; a console warning on Cloudflare), as django-cf's
    ``Response.new(content.decode(), status=204)`` relies on; a stream still is refused."""
    from js import ReadableStream

    assert Response(body, 204).status == 204
    assert JsResponse.new(body, status=204).status == 204
    with pytest.raises(TypeError, match="null body status"):
        JsResponse.new(ReadableStream.new(), status=204)
