"""HTMLRewriter as a whole: the response it returns, streaming, and awkward HTML."""

import asyncio

import pytest

from tests.runtime.htmlrewriter.helpers import rewrite
from wranglerpy.runtime.htmlrewriter import HTMLRewriter, SelectorError
from wranglerpy.runtime.request_response import Response


def marking_rewriter(texts: list[str] | None = None) -> HTMLRewriter:
    """Handlers whose output does not depend on where the input was split."""

    def element(el):
        el.setAttribute("data-seen", el.tagName)
        el.onEndTag(lambda end: end.after("<!--/-->", html=True))

    return (
        HTMLRewriter()
        .on("p, img, script", {"element": element})
        .on("li:nth-child(2)", {"element": lambda el: el.replace("two", html=True)})
        .on("ul", {"comments": lambda c: setattr(c, "text", c.text.upper())})
        .on("title", {"text": lambda c: (texts if texts is not None else []).append(c.text)})
    )


SMALL = (
    "<!doctype html><title>T é</title><ul><!-- c --><li>1<li>2<li>3</ul>"
    "<p class='a b'>x &amp; <img src=a.png/> y</p><script>if (a<b) {}</script>"
)


async def test_same_output_wherever_the_document_is_split() -> None:
    data = SMALL.encode()
    whole = await rewrite(marking_rewriter(), SMALL)
    assert '<li data-seen="li">' not in whole and "two" in whole and "<!-- C -->" in whole
    for cut in range(len(data) + 1):  # every byte offset, including inside "é"
        texts: list[str] = []
        response = Response([data[:cut], data[cut:]], headers={"content-type": "text/html"})
        out = await marking_rewriter(texts).transform(response).text()
        assert out == whole, f"split at byte {cut}"
        assert "".join(texts) == "T é"


async def test_same_output_fed_one_byte_at_a_time() -> None:
    data = SMALL.encode()
    response = Response([data[i : i + 1] for i in range(len(data))])
    assert await marking_rewriter().transform(response).text() == await rewrite(
        marking_rewriter(), SMALL
    )


async def test_new_on_and_on_document_chain() -> None:
    rewriter = HTMLRewriter.new()
    assert rewriter.on("p", {}) is rewriter
    assert rewriter.onDocument({}) is rewriter


async def test_response_keeps_status_and_headers_but_not_content_length() -> None:
    source = Response(
        "<p>hi</p>",
        status=404,
        status_text="Not Found",
        headers={"content-type": "text/html", "x-a": "1", "content-length": "9"},
    )
    result = HTMLRewriter().on("p", {"element": lambda el: el.append("!")}).transform(source)
    assert result.status == 404 and result.statusText == "Not Found"
    assert result.headers.get("x-a") == "1" and "content-length" not in result.headers
    assert await result.text() == "<p>hi!</p>"
    assert source.bodyUsed


async def test_any_content_type_is_rewritten_as_cloudflare_does() -> None:
    source = Response("<p>hi</p>", headers={"content-type": "text/plain"})
    result = HTMLRewriter().on("p", {"element": lambda el: el.remove()}).transform(source)
    assert await result.text() == ""


async def test_a_response_without_body_stays_without_body() -> None:
    result = HTMLRewriter().transform(Response(None, status=204))
    assert result.status == 204 and result.body is None


async def test_the_body_streams_chunk_by_chunk() -> None:
    released = asyncio.Event()

    async def source():
        yield b"<p>first</p>"
        await released.wait()
        yield b"<p>second</p>"

    result = (
        HTMLRewriter().on("p", {"element": lambda el: el.before("*")}).transform(Response(source()))
    )
    body = result.body
    assert body is not None
    assert await body.__anext__() == b"*<p>first</p>"  # before the source has finished
    released.set()
    assert [chunk async for chunk in body] == [b"*<p>second</p>"]


async def test_charset_and_invalid_bytes_survive() -> None:
    latin = "<p>caf\xe9</p>".encode("latin-1")
    result = (
        HTMLRewriter()
        .on("p", {"element": lambda el: el.append("é")})
        .transform(Response(latin, headers={"content-type": "text/html; charset=ISO-8859-1"}))
    )
    assert await result.bytes() == "<p>caféé</p>".encode("latin-1")
    broken = b"<p>\xff\xfe</p>"
    result = HTMLRewriter().on("p", {"element": lambda el: None}).transform(Response(broken))
    assert await result.bytes() == broken


async def test_void_elements_have_no_end_tag() -> None:
    ends = []

    def element(el):
        el.after("|")
        el.append("never")  # nowhere to append: a void element has no content
        el.onEndTag(lambda end: ends.append(end.name))

    out = await rewrite(
        HTMLRewriter().on("br, img, meta, input, link", {"element": element}),
        "<meta charset=utf-8><link rel=x><p>a<br>b<br/>c<img src=x><input></p>",
    )
    assert out == "<meta charset=utf-8>|<link rel=x>|<p>a<br>|b<br/>|c<img src=x>|<input>|</p>"
    assert ends == []
    # Elements after a void one are its siblings, not its children.
    seen = []
    rewriter = HTMLRewriter().on("p > b", {"element": lambda el: seen.append(el.tagName)})
    await rewrite(rewriter, "<p><br><b>x</b></p>")
    assert seen == ["b"]


async def test_svg_self_closing_elements_are_closed() -> None:
    seen = []
    rewriter = HTMLRewriter().on(
        "svg > circle", {"element": lambda el: seen.append(el.namespaceURI)}
    )
    out = await rewrite(rewriter, '<svg><path d="M0"/><circle r=1 /></svg>')
    assert out == '<svg><path d="M0"/><circle r=1 /></svg>'
    assert seen == ["http://www.w3.org/2000/svg"]


async def test_script_content_is_text_not_markup() -> None:
    seen = []
    rewriter = HTMLRewriter().on("b", {"element": lambda el: seen.append("b")})
    html = '<script>document.write("<b>x</b>")</script><style>b{}</style><b>y</b>'
    assert await rewrite(rewriter, html) == html
    assert seen == ["b"]


@pytest.mark.parametrize(
    "html",
    [
        "<div><span>a</div></span>",
        "</p></div>stray",
        "<div><p>unclosed",
        "<a href='x>oops",
        "<!-- never closed",
        "a < b && c > d <",
        "<p <p>>",
        "<!doctype",
        "<?xml version='1.0'?><x/>",
        "<table><tr><td>1<td>2<tr><td>3</table>",
        "",
    ],
)
async def test_malformed_html_never_fails_and_passes_through(html: str) -> None:
    rewriter = HTMLRewriter().on("*", {"element": lambda el: None, "text": lambda t: None})
    assert await rewrite(rewriter, html) == html


async def test_implied_end_tags_close_elements() -> None:
    appended = HTMLRewriter().on("li, p", {"element": lambda el: el.append(";")})
    assert (
        await rewrite(appended, "<ul><li>1<li>2</ul><p>a<div>b</div>")
        == "<ul><li>1;<li>2;</ul><p>a;<div>b</div>"
    )


async def test_misnested_end_tag_closes_inner_elements() -> None:
    seen = []
    rewriter = HTMLRewriter().on("div > i", {"element": lambda el: seen.append("i")})
    await rewrite(rewriter, "<div><span>a</div><i>x</i>")
    assert seen == []  # <i> is after the div, which </div> closed with its span


async def test_unsupported_selector_fails_at_on() -> None:
    with pytest.raises(SelectorError, match=r"Unsupported pseudo-class.*'a:hover'"):
        HTMLRewriter().on("a:hover", {})
    with pytest.raises(TypeError, match=r"Unsupported combinator `\+`"):
        HTMLRewriter().on("h1 + p", {})


async def test_a_failing_handler_fails_the_body() -> None:
    def element(el):
        raise ValueError("A really bad error.")

    result = HTMLRewriter().on("p", {"element": element}).transform(Response("<p>x</p>"))
    with pytest.raises(ValueError, match="really bad"):
        await result.text()


async def test_transform_needs_a_response() -> None:
    with pytest.raises(TypeError, match="expects a Response"):
        HTMLRewriter().transform("<p>")


def test_importable_from_js() -> None:
    from wranglerpy.runtime import jsglobals
    from wranglerpy.runtime.shim import js

    assert js.HTMLRewriter is jsglobals.HTMLRewriter is HTMLRewriter
    assert "HTMLRewriter" in js.__all__
