"""The ``js`` module with Pyodide's calling conventions, and ``pyodide.*``."""

from __future__ import annotations

import asyncio

import pytest


def test_keyword_arguments_to_new_are_the_init_object() -> None:
    """Pyodide: a JS call's keyword arguments become its last argument (the init object);
    the SDK relies on it (SDK/response.py:183 js.Response.new(js_body, **options))."""
    from js import Headers, Request, Response

    response = Response.new("nf", status=404, headers=Headers.new([("x-a", "1")]))
    assert response.status == 404 and response.headers["x-a"] == "1"
    request = Request.new("https://example.com/", method="POST", body="x")
    assert request.method == "POST"


def test_a_map_from_to_js_is_not_an_init_object() -> None:
    """Pyodide: to_js(dict) is a JS Map; JS reads no status from a Map."""
    from js import Object, Response
    from pyodide.ffi import to_js

    assert Response.new("x", to_js({"status": 404})).status == 200
    init = to_js({"status": 404}, dict_converter=Object.fromEntries)
    assert init.status == 404 and Response.new("x", init).status == 404


def test_url_and_search_params() -> None:
    """WHATWG URL as workerd implements it: parts and a live searchParams."""
    from js import URL, URLSearchParams

    url = URL.new("/a b?x=1&x=2", "https://Example.com:443/base/")
    assert url.hostname == "example.com" and url.port == "" and url.pathname == "/a%20b"
    assert url.searchParams.getAll("x") == ["1", "2"]
    url.searchParams.append("y", "z")
    assert url.href == "https://example.com/a%20b?x=1&x=2&y=z"
    assert URLSearchParams.new("a=1&b=2").get("b") == "2"


async def test_crypto_encoding_and_base64() -> None:
    """workerd crypto: randomUUID, getRandomValues (65536-byte quota), subtle.digest."""
    from js import TextDecoder, TextEncoder, atob, btoa, crypto

    assert len(crypto.randomUUID()) == 36
    assert len(crypto.getRandomValues(bytes(16))) == 16
    digest = await crypto.subtle.digest("SHA-256", TextEncoder.new().encode("abc"))
    assert digest.to_bytes().hex().startswith("ba7816bf")
    assert TextDecoder.new().decode(TextEncoder.new().encode("é")) == "é"
    assert atob(btoa("hi")) == "hi"
    with pytest.raises(Exception, match="Latin1"):
        btoa("é€")


async def test_timers() -> None:
    from js import clearTimeout, setTimeout

    fired = asyncio.Event()
    cancelled = []
    clearTimeout(setTimeout(lambda: cancelled.append(1), 1))
    setTimeout(fired.set, 5)  # due after the cancelled one would have run
    await fired.wait()
    assert cancelled == []


def test_ffi_proxies() -> None:
    """Pyodide: create_proxy(...).destroy(); create_once_callable runs once."""
    from pyodide.ffi import create_once_callable, create_proxy, destroy_proxies

    proxy = create_proxy(lambda: 1)
    assert proxy() == 1
    destroy_proxies([proxy])
    with pytest.raises(RuntimeError):
        proxy()
    once = create_once_callable(lambda: 2)
    assert once() == 2
    with pytest.raises(RuntimeError):
        once()


RUN_SYNC_WORKER = """
import asyncio
from pyodide.ffi import run_sync
from workers import Response, WorkerEntrypoint

def sync_helper():
    return run_sync(asyncio.sleep(0, result="waited"))

def nested_loop():
    return asyncio.get_event_loop().run_until_complete(asyncio.sleep(0, result="nested"))

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(sync_helper() + " " + nested_loop())
"""


async def test_run_sync_and_run_until_complete_inside_a_handler(harness) -> None:
    """SDK/utils.py:88-91 uses run_sync (JSPI); Pyodide's WebLoop lets run_until_complete
    wait inside a running handler."""
    async with harness.build(RUN_SYNC_WORKER) as client:
        response = await client.get("/")
    assert response.text == "waited nested", response.text


def test_run_sync_outside_a_handler_has_no_suspender() -> None:
    """SDK/utils.py:94-98: RuntimeError("No suspender") where JSPI cannot suspend."""
    from pyodide.ffi import run_sync

    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="No suspender"):
        run_sync(nothing())


async def test_pyfetch_of_a_relative_url_is_an_abort_error() -> None:
    """workerd's global fetch refuses relative URLs (no base) with a JS TypeError; pyodide's
    pyfetch raises what the JS fetch throws as ``AbortError(OSError)`` (http.py pyfetch)."""
    from pyodide.http import AbortError, pyfetch

    with pytest.raises(AbortError, match="^Invalid URL: /relative$"):
        await pyfetch("/relative")


def test_js_api_errors_are_js_exceptions() -> None:
    """Pyodide raises JS errors as JsException (name, message); SDK/utils.py:117-123 converts
    RangeError/TypeError by name, so both spellings of the handler work."""
    from js import URL, Response
    from pyodide.ffi import JsException

    with pytest.raises(JsException) as info:
        Response.new("x", status=42)
    assert info.value.name == "RangeError" and isinstance(info.value, ValueError)
    with pytest.raises(JsException) as info:
        URL.new("not a url")
    assert info.value.name == "TypeError" and isinstance(info.value, TypeError)
