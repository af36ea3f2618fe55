"""The objects handlers receive: Element, EndTag, Text, Comment, Doctype, DocumentEnd.

They only record what a handler asks for (insertions, removal, renames); the engine turns the
record into output. Content methods take ``(content, options)`` as in JS, where options is
``{"html": True}`` or an object with an ``html`` attribute, or ``html=True`` as a keyword, as
Cloudflare's Python examples pass it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from wranglerpy.runtime.htmlrewriter import tokens

HTML_NS = "http://www.w3.org/1999/xhtml"
SVG_NS = "http://www.w3.org/2000/svg"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def _wants_html(options: Any, html: bool | None) -> bool:
    if html is not None:
        return bool(html)
    if options is None:
        return False
    if hasattr(options, "to_py"):
        options = options.to_py()
    if isinstance(options, dict):
        return bool(options.get("html", False))
    return bool(getattr(options, "html", False))


def escape_text(text: str) -> str:
    """Escaping of text content (``html`` false), as lol-html does it."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def content(value: Any, options: Any = None, html: bool | None = None) -> str:
    text = str(value)
    return text if _wants_html(options, html) else escape_text(text)


class _Mutations:
    """Content around a token: ``before`` in call order, ``after`` nearest-first (as lol-html:
    each ``after()`` goes right after the token, in front of earlier ones)."""

    def __init__(self) -> None:
        self.before_parts: list[str] = []
        self.after_parts: list[str] = []
        self.replacement: str | None = None
        self._removed = False

    @property
    def removed(self) -> bool:
        return self._removed

    def before(self, value: Any, options: Any = None, *, html: bool | None = None) -> Any:
        self.before_parts.append(content(value, options, html))
        return self

    def after(self, value: Any, options: Any = None, *, html: bool | None = None) -> Any:
        self.after_parts.insert(0, content(value, options, html))
        return self

    def replace(self, value: Any, options: Any = None, *, html: bool | None = None) -> Any:
        self.replacement = content(value, options, html)
        self._removed = True
        return self

    def remove(self) -> Any:
        self.replacement = None
        self._removed = True
        return self

    def render(self, original: str) -> str:
        middle = (self.replacement or "") if self._removed else original
        return "".join(self.before_parts) + middle + "".join(self.after_parts)


class TextChunk(_Mutations):
    """A piece of a text node as it arrived; ``text`` is the source text (entities as written)."""

    def __init__(self, text: str, last: bool) -> None:
        super().__init__()
        self._text = text
        self._last = last

    @property
    def text(self) -> str:
        return self._text

    @property
    def lastInTextNode(self) -> bool:  # noqa: N802 - the JS name
        return self._last

    def __repr__(self) -> str:
        return f"<Text {self._text!r} last={self._last}>"


class Comment(_Mutations):
    def __init__(self, token: tokens.Comment) -> None:
        super().__init__()
        self._token = token
        self.text = token.text

    def serialize(self) -> str:
        original = self._token.raw if self.text == self._token.text else f"<!--{self.text}-->"
        return self.render(original)


class Doctype:
    """``<!DOCTYPE name PUBLIC "publicId" "systemId">``, read-only."""

    _PARTS = re.compile(
        r"<!doctype\s+([^\s>]+)?(?:\s+(?:public\s*([\"'])(.*?)\2|system)\s*(?:([\"'])(.*?)\4)?)?",
        re.IGNORECASE | re.DOTALL,
    )

    def __init__(self, raw: str) -> None:
        m = self._PARTS.match(raw)
        self.name: str | None = m.group(1).lower() if m and m.group(1) else None
        self.publicId: str | None = m.group(3) if m else None  # noqa: N815 - the JS name
        self.systemId: str | None = m.group(5) if m else None  # noqa: N815 - the JS name


class DocumentEnd:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def append(self, value: Any, options: Any = None, *, html: bool | None = None) -> DocumentEnd:
        self.parts.append(content(value, options, html))
        return self


class EndTag:
    """An element's end tag, given to the handlers registered with ``element.onEndTag``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.before_parts: list[str] = []
        self.after_parts: list[str] = []
        self.removed = False

    def before(self, value: Any, options: Any = None, *, html: bool | None = None) -> EndTag:
        self.before_parts.append(content(value, options, html))
        return self

    def after(self, value: Any, options: Any = None, *, html: bool | None = None) -> EndTag:
        self.after_parts.insert(0, content(value, options, html))
        return self

    def remove(self) -> EndTag:
        self.removed = True
        return self


def _serialize_attr(name: str, value: str) -> str:
    # Values are kept as written (lol-html does not decode entities), so only `"` needs escaping.
    return f'{name}="{value.replace(chr(34), "&quot;")}"'


class Element(_Mutations):
    """A start tag matched by a selector, and what the handlers want done with the element."""

    def __init__(self, token: tokens.StartTag, namespace: str, can_have_content: bool) -> None:
        super().__init__()
        self._token = token
        self._tag = token.name
        # [name, value, source text or None once changed]; original order and quoting are kept.
        self._attrs: list[list[Any]] = [[a.name, a.value, a.raw] for a in token.attrs]
        self._dirty = False
        self._namespace = namespace
        self._can_have_content = can_have_content
        self.prepend_parts: list[str] = []
        self.append_parts: list[str] = []
        self.inner: str | None = None  # set by setInnerContent
        self.keep_content_only = False
        self.end_tag_handlers: list[Callable[[EndTag], Any]] = []

    @property
    def tagName(self) -> str:  # noqa: N802 - the JS name
        return self._tag

    @tagName.setter
    def tagName(self, name: str) -> None:  # noqa: N802 - the JS name
        self._tag = str(name).lower()
        self._dirty = True

    @property
    def namespaceURI(self) -> str:  # noqa: N802 - the JS name
        return self._namespace

    @property
    def selfClosing(self) -> bool:  # noqa: N802 - the JS name
        return self._token.self_closing

    @property
    def canHaveContent(self) -> bool:  # noqa: N802 - the JS name
        return self._can_have_content

    @property
    def attributes(self) -> Iterator[list[str]]:
        seen: set[str] = set()
        for name, value, _ in self._attrs:
            if name not in seen:  # a repeated attribute is ignored, as by browsers
                seen.add(name)
                yield [name, value]

    def _find(self, name: str) -> list[Any] | None:
        name = str(name).lower()
        return next((a for a in self._attrs if a[0] == name), None)

    def getAttribute(self, name: str) -> str | None:  # noqa: N802 - the JS name
        found = self._find(name)
        return None if found is None else found[1]

    def hasAttribute(self, name: str) -> bool:  # noqa: N802 - the JS name
        return self._find(name) is not None

    def setAttribute(self, name: str, value: Any) -> Element:  # noqa: N802 - the JS name
        found = self._find(name)
        if found is None:
            self._attrs.append([str(name).lower(), str(value), None])
        else:
            found[1], found[2] = str(value), None
        self._dirty = True
        return self

    def removeAttribute(self, name: str) -> Element:  # noqa: N802 - the JS name
        name = str(name).lower()
        kept = [a for a in self._attrs if a[0] != name]
        if len(kept) != len(self._attrs):
            self._attrs = kept
            self._dirty = True
        return self

    def prepend(self, value: Any, options: Any = None, *, html: bool | None = None) -> Element:
        self.prepend_parts.insert(0, content(value, options, html))
        return self

    def append(self, value: Any, options: Any = None, *, html: bool | None = None) -> Element:
        self.append_parts.append(content(value, options, html))
        return self

    def setInnerContent(  # noqa: N802 - the JS name
        self, value: Any, options: Any = None, *, html: bool | None = None
    ) -> Element:
        self.inner = content(value, options, html)
        self.prepend_parts.clear()
        self.append_parts.clear()
        return self

    def removeAndKeepContent(self) -> Element:  # noqa: N802 - the JS name
        self.keep_content_only = True
        return self

    def onEndTag(self, handler: Callable[[EndTag], Any]) -> None:  # noqa: N802 - the JS name
        self.end_tag_handlers.append(handler)

    def start_tag(self) -> str:
        """The start tag as written, or rebuilt if the tag or its attributes changed (then
        whitespace between attributes becomes one space; untouched attributes keep their
        source text, changed ones are written as ``name="value"``)."""
        if not self._dirty:
            return self._token.raw
        parts = [f"<{self._tag}"]
        for name, value, raw in self._attrs:
            parts.append(raw if raw is not None else _serialize_attr(name, value))
        closing = " />" if self._token.self_closing else ">"
        return " ".join(parts) + closing

    def end_tag(self, original: str) -> str:
        return f"</{self._tag}>" if self._tag != self._token.name else original

    def __repr__(self) -> str:
        return f"<Element {self._tag}>"
