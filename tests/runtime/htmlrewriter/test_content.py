"""Element, end tag, text and comment operations, through HTMLRewriter.transform."""

import pytest

from tests.runtime.htmlrewriter.helpers import rewrite
from wranglerpy.runtime.htmlrewriter import HTMLRewriter

DOC = "<div id=\"a\" class='x'>hi <b>there</b></div>"


async def on_div(action, html: str = DOC) -> str:
    return await rewrite(HTMLRewriter().on("div", {"element": action}), html)


async def test_untouched_document_is_byte_for_byte_the_same() -> None:
    html = "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8></head>\n<body x = 'y' >&amp; <!-- c --><p>a<p>b</body></html>\n"
    assert await rewrite(HTMLRewriter().on("p", {"element": lambda el: None}), html) == html


async def test_element_reading() -> None:
    seen = {}

    def element(el):
        seen.update(
            tag=el.tagName,
            attrs=list(el.attributes),
            id=el.getAttribute("ID"),
            missing=el.getAttribute("nope"),
            has=el.hasAttribute("class"),
            ns=el.namespaceURI,
            removed=el.removed,
        )

    await on_div(element, '<DIV ID="a" class=x id="dup">t</DIV>')
    assert seen == {
        "tag": "div",
        "attrs": [["id", "a"], ["class", "x"]],
        "id": "a",
        "missing": None,
        "has": True,
        "ns": "http://www.w3.org/1999/xhtml",
        "removed": False,
    }


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            lambda el: el.setAttribute("id", 'b"c'),
            "<div id=\"b&quot;c\" class='x'>hi <b>there</b></div>",
        ),
        (
            lambda el: el.setAttribute("data-n", 1),
            '<div id="a" class=\'x\' data-n="1">hi <b>there</b></div>',
        ),
        (lambda el: el.removeAttribute("id"), "<div class='x'>hi <b>there</b></div>"),
        (
            lambda el: setattr(el, "tagName", "section"),
            "<section id=\"a\" class='x'>hi <b>there</b></section>",
        ),
        (lambda el: el.before("<i>"), "&lt;i&gt;" + DOC),
        (lambda el: el.before("<i>", {"html": True}), "<i>" + DOC),
        (lambda el: el.after("<i>", html=True), DOC + "<i>"),
        (lambda el: el.prepend("<i>", html=True), DOC.replace("hi", "<i>hi")),
        (lambda el: el.append("<i>", html=True), DOC.replace("</b></div>", "</b><i></div>")),
        (lambda el: el.replace("<p>new</p>", html=True), "<p>new</p>"),
        (lambda el: el.replace("<p>"), "&lt;p&gt;"),
        (lambda el: el.setInnerContent("x & y"), "<div id=\"a\" class='x'>x &amp; y</div>"),
        (lambda el: el.remove(), ""),
        (lambda el: el.removeAndKeepContent(), "hi <b>there</b>"),
        (lambda el: el.before("1").before("2").after("3").after("4"), "12" + DOC + "43"),
        (
            lambda el: el.prepend("1").prepend("2").append("3").append("4"),
            DOC.replace("hi", "21hi").replace("</b></div>", "</b>34</div>"),
        ),
        (lambda el: el.remove().before("<", html=True).after(">", html=True), "<>"),
    ],
)
async def test_element_mutations(action, expected: str) -> None:
    assert await on_div(action) == expected


async def test_removed_reflects_earlier_handlers() -> None:
    seen = []
    rewriter = (
        HTMLRewriter()
        .on("b", {"element": lambda el: el.remove()})
        .on("b", {"element": lambda el: seen.append(el.removed)})
    )
    assert await rewrite(rewriter, DOC) == "<div id=\"a\" class='x'>hi </div>"
    assert seen == [True]


async def test_end_tag_handlers() -> None:
    def element(el):
        def end(tag):
            assert tag.name == "b"
            tag.before("[", html=True).after("]", html=True)
            tag.name = "i"  # rewrites only the end tag

        el.onEndTag(end)

    out = await rewrite(HTMLRewriter().on("b", {"element": element}), DOC)
    assert out == "<div id=\"a\" class='x'>hi <b>there[</i>]</div>"


async def test_renamed_element_renames_its_end_tag() -> None:
    names = []

    def element(el):
        el.tagName = "strong"
        el.onEndTag(lambda end: names.append(end.name))

    out = await rewrite(HTMLRewriter().on("b", {"element": element}), DOC)
    assert out == "<div id=\"a\" class='x'>hi <strong>there</strong></div>"
    assert names == ["strong"]


async def test_end_tag_remove() -> None:
    rewriter = HTMLRewriter().on("b", {"element": lambda el: el.onEndTag(lambda end: end.remove())})
    assert await rewrite(rewriter, "<b>x</b>y") == "<b>xy"


async def test_async_handlers_are_awaited() -> None:
    class Handler:
        async def element(self, el):
            el.setInnerContent("async")

        async def text(self, chunk):
            chunk.remove()

    rewriter = HTMLRewriter().on("b", Handler()).on("div", {"text": lambda t: None})
    assert await rewrite(rewriter, DOC) == "<div id=\"a\" class='x'>hi <b>async</b></div>"


async def test_text_chunks() -> None:
    chunks = []

    def text(chunk):
        chunks.append((chunk.text, chunk.lastInTextNode))
        if chunk.text == "b":
            chunk.replace("<em>B</em>", html=True)
        elif chunk.text == "c":
            chunk.before("(").after(")")
        elif chunk.text == "d":
            chunk.remove()
            assert chunk.removed

    out = await rewrite(HTMLRewriter().on("p", {"text": text}), "<p>a</p><p>b</p><p>c</p><p>d</p>")
    assert out == "<p>a</p><p><em>B</em></p><p>(c)</p><p></p>"
    assert chunks == [("a", True), ("b", True), ("c", True), ("d", True)]


async def test_text_split_across_chunks_ends_with_last_in_text_node() -> None:
    chunks = []
    rewriter = HTMLRewriter().on("p", {"text": lambda c: chunks.append((c.text, c.lastInTextNode))})
    await rewrite(rewriter, ["<p>Hey. How ", "are you?</p>"])
    assert chunks == [("Hey. How ", False), ("are you?", True)]
    assert "".join(text for text, _ in chunks) == "Hey. How are you?"


async def test_text_handlers_see_descendant_text_only_inside_the_element() -> None:
    texts = []
    rewriter = HTMLRewriter().on("div", {"text": lambda c: texts.append(c.text)})
    await rewrite(rewriter, "out<div>in <b>deep</b></div>after")
    assert "".join(texts) == "in deep"


async def test_comments() -> None:
    def comments(comment):
        if comment.text == " a ":
            comment.text = " A "
        elif comment.text == "b":
            comment.replace("<hr>", html=True)
        else:
            comment.before("<", html=True).after(">", html=True).remove()

    out = await rewrite(
        HTMLRewriter().on("div", {"comments": comments}),
        "<!--x--><div><!-- a --><!--b--><!--c--></div>",
    )
    assert out == "<!--x--><div><!-- A --><hr><></div>"


async def test_document_handlers() -> None:
    seen = {}

    class Document:
        def doctype(self, doctype):
            seen["doctype"] = (doctype.name, doctype.publicId, doctype.systemId)

        def comments(self, comment):
            comment.remove()

        def text(self, chunk):
            seen.setdefault("text", []).append(chunk.text)

        async def end(self, end):
            end.append("<!-- end -->", html=True)

    html = '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd"><!--x-->a<p>b</p>'
    out = await rewrite(HTMLRewriter().onDocument(Document()), html)
    assert out == html.replace("<!--x-->", "") + "<!-- end -->"
    assert seen["doctype"] == (
        "html",
        "-//W3C//DTD HTML 4.01//EN",
        "http://www.w3.org/TR/html4/strict.dtd",
    )
    assert "".join(seen["text"]) == "ab"
