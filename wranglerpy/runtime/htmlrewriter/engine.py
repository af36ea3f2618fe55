"""One rewrite in progress: tokens in, handlers called, rewritten text out.

The engine keeps a stack of open elements (for selectors that look at ancestors and siblings,
and to know where an element ends) and decides, token by token, what reaches the output. It
is not a full HTML tree builder: it knows void elements, raw-text elements and the common
implied end tags (``<p>``, ``<li>``, table cells...); an end tag with no open element is
passed through, and one that skips open elements closes them too, so malformed input never
fails, it only may match a little differently from a browser's tree.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wranglerpy.runtime.htmlrewriter import content, tokens
from wranglerpy.runtime.htmlrewriter.selector import Node, Selector

VOID = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr".split()
)
# Their content is text up to their own end tag (script, style...); RCDATA alike for us.
RAWTEXT = frozenset("iframe noembed noframes script style textarea title xmp".split())

_P_CLOSERS = frozenset(
    "address article aside blockquote dd details dialog dir div dl dt fieldset figcaption figure"
    " footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre section table ul".split()
)
# A start tag closes an open element of these names while it is the innermost one.
_IMPLIED_CLOSE: dict[str, frozenset[str]] = {name: frozenset({"p"}) for name in _P_CLOSERS}
_IMPLIED_CLOSE.update(
    {
        "li": frozenset({"p", "li"}),
        "dt": frozenset({"p", "dt", "dd"}),
        "dd": frozenset({"p", "dt", "dd"}),
        "option": frozenset({"option"}),
        "optgroup": frozenset({"option", "optgroup"}),
        "tr": frozenset({"td", "th", "tr"}),
        "td": frozenset({"td", "th"}),
        "th": frozenset({"td", "th"}),
        "thead": frozenset({"td", "th", "tr", "tbody", "tfoot"}),
        "tbody": frozenset({"td", "th", "tr", "thead", "tfoot"}),
        "tfoot": frozenset({"td", "th", "tr", "thead", "tbody"}),
    }
)


def handler_method(handler: Any, name: str) -> Any:
    """A handler is an object with methods or a dict of callables, as in JS."""
    if isinstance(handler, Mapping):
        method = handler.get(name)
    else:
        method = getattr(handler, name, None)
    return method if callable(method) else None


async def call(method: Any, argument: Any) -> None:
    result = method(argument)
    if inspect.isawaitable(result):
        await result


@dataclass
class _Frame:
    node: Node | None  # None for the document
    namespace: str
    element: content.Element | None = None
    handlers: list[Any] = field(default_factory=list)  # those whose selector matched it
    hide_content: bool = False  # removed, replaced or given new inner content
    children: int = 0
    children_of_type: dict[str, int] = field(default_factory=dict)


class Engine:
    def __init__(
        self, element_handlers: Sequence[tuple[Selector, Any]], document_handlers: Sequence[Any]
    ) -> None:
        self._element_handlers = list(element_handlers)
        self._document_handlers = list(document_handlers)
        self._tokenizer = tokens.Tokenizer()
        self._stack: list[_Frame] = [_Frame(None, content.HTML_NS)]
        self._out: list[str] = []

    async def feed(self, text: str) -> str:
        await self._run(self._tokenizer.feed(text))
        return self._take()

    async def close(self) -> str:
        await self._run(self._tokenizer.close())
        while len(self._stack) > 1:  # elements still open at the end of the document
            await self._close(self._stack.pop(), None)
        end = content.DocumentEnd()
        for handler in self._document_handlers:
            method = handler_method(handler, "end")
            if method is not None:
                await call(method, end)
        self._emit("".join(end.parts))
        return self._take()

    def _take(self) -> str:
        text = "".join(self._out)
        self._out.clear()
        return text

    def _emit(self, text: str) -> None:
        if text and not any(frame.hide_content for frame in self._stack):
            self._out.append(text)

    async def _run(self, stream: Iterator[tokens.Token]) -> None:
        for token in stream:
            if isinstance(token, tokens.StartTag):
                await self._start(token)
            elif isinstance(token, tokens.EndTag):
                await self._end(token)
            elif isinstance(token, tokens.Text):
                await self._text(token)
            elif isinstance(token, tokens.Comment):
                await self._comment(token)
            elif isinstance(token, tokens.Doctype):
                doctype = content.Doctype(token.raw)
                for handler in self._document_handlers:
                    method = handler_method(handler, "doctype")
                    if method is not None:
                        await call(method, doctype)
                self._emit(token.raw)
            else:
                self._emit(token.raw)

    def _content_handlers(self, kind: str) -> list[Any]:
        """Handlers for text or comments: of every element around them, then the document's."""
        methods = [handler_method(h, kind) for frame in self._stack for h in frame.handlers]
        methods += [handler_method(h, kind) for h in self._document_handlers]
        return [m for m in methods if m is not None]

    async def _text(self, token: tokens.Text) -> None:
        chunk = content.TextChunk(token.text, token.last)
        for method in self._content_handlers("text"):
            await call(method, chunk)
        self._emit(chunk.render(token.text))

    async def _comment(self, token: tokens.Comment) -> None:
        comment = content.Comment(token)
        for method in self._content_handlers("comments"):
            await call(method, comment)
        self._emit(comment.serialize())

    async def _start(self, token: tokens.StartTag) -> None:
        if self._stack[-1].namespace == content.HTML_NS:
            closes = _IMPLIED_CLOSE.get(token.name, frozenset())
            while len(self._stack) > 1 and self._stack[-1].node.tag in closes:  # type: ignore[union-attr]
                await self._close(self._stack.pop(), None)
        parent = self._stack[-1]
        namespace = self._namespace(parent, token.name)
        parent.children += 1
        of_type = parent.children_of_type.get(token.name, 0) + 1
        parent.children_of_type[token.name] = of_type
        attrs: dict[str, str] = {}
        for attr in token.attrs:
            attrs.setdefault(attr.name, attr.value)
        node = Node(token.name, attrs, parent.children, of_type)
        if namespace == content.HTML_NS:
            has_end = token.name not in VOID
        else:  # in SVG and MathML `<x/>` really is closed
            has_end = not token.self_closing
        element = content.Element(token, namespace, has_end)
        frame = _Frame(node, namespace, element)

        chain = [f.node for f in self._stack[1:] if f.node is not None] + [node]
        for selector, handler in self._element_handlers:
            if selector.matches(chain):
                frame.handlers.append(handler)
                method = handler_method(handler, "element")
                if method is not None:
                    await call(method, element)

        self._emit("".join(element.before_parts))
        if element.removed:
            self._emit(element.replacement or "")
        elif not element.keep_content_only:
            self._emit(element.start_tag())
        if not element.removed:
            self._emit(
                element.inner if element.inner is not None else "".join(element.prepend_parts)
            )
        if not has_end:
            self._emit("".join(element.after_parts))
            return
        frame.hide_content = element.removed or element.inner is not None
        self._stack.append(frame)
        if namespace == content.HTML_NS and token.name in RAWTEXT:
            self._tokenizer.rawtext = token.name
        elif namespace == content.HTML_NS and token.name == "plaintext":
            self._tokenizer.plaintext = True

    @staticmethod
    def _namespace(parent: _Frame, name: str) -> str:
        if parent.namespace == content.HTML_NS or (
            parent.node and parent.node.tag == "foreignobject"
        ):
            if name == "svg":
                return content.SVG_NS
            if name == "math":
                return content.MATHML_NS
            return content.HTML_NS
        return parent.namespace

    async def _end(self, token: tokens.EndTag) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            node = self._stack[depth].node
            if node is not None and node.tag == token.name:
                break
        else:
            self._emit(token.raw)  # nothing open to close: pass it through
            return
        while len(self._stack) > depth + 1:  # elements left open inside it end here too
            await self._close(self._stack.pop(), None)
        await self._close(self._stack.pop(), token)

    async def _close(self, frame: _Frame, token: tokens.EndTag | None) -> None:
        """End ``frame``'s element; ``token`` is None when it ends without its own end tag."""
        element = frame.element
        assert element is not None
        if element.removed:
            self._emit("".join(element.after_parts))
            return
        self._emit("".join(element.append_parts))
        if token is not None:
            end = content.EndTag(element.tagName)
            for handler in element.end_tag_handlers:
                await call(handler, end)
            self._emit("".join(end.before_parts))
            if not end.removed and not element.keep_content_only:
                self._emit(
                    f"</{end.name}>" if end.name != element.tagName else element.end_tag(token.raw)
                )
            self._emit("".join(end.after_parts))
        self._emit("".join(element.after_parts))
