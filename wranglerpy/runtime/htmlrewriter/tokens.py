"""A streaming HTML tokenizer that keeps every token's source text.

``html.parser.HTMLParser`` could be fed chunk by chunk too, but it reports parsed values, not
the bytes they came from, so untouched markup could not be passed through unchanged. This one
yields each token with its raw text: the output of a rewrite is the input wherever no handler
changed anything. It is lenient like a browser: nothing in the input makes it fail, and what it
cannot classify is passed through as :class:`Raw`.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field


@dataclass
class Text:
    text: str
    last: bool  # the last chunk of its text node (may be empty)


@dataclass
class Attr:
    name: str  # lower-case
    value: str  # as written: entities are not decoded (as in lol-html)
    raw: str  # the source text, e.g. `href='/x'`


@dataclass
class StartTag:
    name: str  # lower-case
    attrs: list[Attr] = field(default_factory=list)
    self_closing: bool = False
    raw: str = ""


@dataclass
class EndTag:
    name: str
    raw: str


@dataclass
class Comment:
    text: str
    raw: str


@dataclass
class Doctype:
    raw: str


@dataclass
class Raw:
    """Markup passed through untouched: processing instructions, bogus comments, stray ``</>``."""

    raw: str


Token = Text | StartTag | EndTag | Comment | Doctype | Raw

_SPACE = " \t\n\r\f"
_NEED_MORE = -1


class Tokenizer:
    """``feed(text)`` and ``close()`` yield tokens; consume each before the next is produced.

    After a ``<script>``-like start tag the consumer sets :attr:`rawtext` to its name (only it
    knows the namespace), and the tokenizer treats what follows as text up to that end tag.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._pos = 0
        self._in_text = False  # part of the current text node was already yielded
        self.rawtext: str | None = None
        self.plaintext = False

    def feed(self, data: str) -> Iterator[Token]:
        self._buf = self._buf[self._pos :] + data
        self._pos = 0
        yield from self._scan(final=False)

    def close(self) -> Iterator[Token]:
        yield from self._scan(final=True)
        if self._in_text:
            self._in_text = False
            yield Text("", True)

    def _text(self, end: int, last: bool) -> Iterator[Token]:
        text = self._buf[self._pos : end]
        self._pos = end
        if text or (last and self._in_text):
            self._in_text = not last
            yield Text(text, last)

    def _scan(self, final: bool) -> Iterator[Token]:
        buf = self._buf
        while self._pos < len(buf):
            if self.plaintext:
                yield from self._text(len(buf), last=False)
                return
            if self.rawtext is not None:
                if not (yield from self._rawtext(final)):
                    return
                continue
            lt = buf.find("<", self._pos)
            if lt == -1:
                yield from self._text(len(buf), last=False)
                return
            token, end = self._markup(lt, final)
            if end == _NEED_MORE:
                yield from self._text(lt, last=False)
                return
            if token is None:  # a `<` that starts no markup is text
                yield from self._text(end, last=False)
                continue
            yield from self._text(lt, last=True)
            self._pos = end
            yield token

    def _rawtext(self, final: bool) -> Generator[Token, None, bool]:
        """Text of a raw-text element up to its end tag; True once that end tag is next."""
        assert self.rawtext is not None
        end_tag = re.compile(r"</" + re.escape(self.rawtext) + r"[\t\n\r\f />]", re.IGNORECASE)
        m = end_tag.search(self._buf, self._pos)
        if m is not None:
            yield from self._text(m.start(), last=True)
            self.rawtext = None
            return True
        # Hold back a tail that could be the start of the end tag split across chunks.
        keep = 0 if final else len(self.rawtext) + 2
        yield from self._text(max(self._pos, len(self._buf) - keep), last=False)
        return False

    def _markup(self, lt: int, final: bool) -> tuple[Token | None, int]:
        buf, n = self._buf, len(self._buf)
        i = lt + 1
        if i >= n:
            return (None, n) if final else (None, _NEED_MORE)
        c = buf[i]
        if c.isascii() and c.isalpha():
            return self._start_tag(lt, final)
        if c == "/":
            if i + 1 >= n:
                return (None, n) if final else (None, _NEED_MORE)
            if buf[i + 1].isascii() and buf[i + 1].isalpha():
                end = buf.find(">", i)
                if end == -1:
                    return (Raw(buf[lt:]), n) if final else (None, _NEED_MORE)
                name = re.split(r"[\s/]", buf[i + 1 : end], maxsplit=1)[0].lower()
                return EndTag(name, buf[lt : end + 1]), end + 1
            return self._until(lt, ">", final)
        if c == "!":
            rest = buf[i + 1 : i + 8]
            if rest.startswith("--"):
                start = i + 3
                if buf.startswith(">", start):  # `<!-->` is an empty comment
                    return Comment("", buf[lt : start + 1]), start + 1
                if buf.startswith("->", start):
                    return Comment("", buf[lt : start + 2]), start + 2
                end = buf.find("-->", start)
                if end == -1:
                    if not final:
                        return None, _NEED_MORE
                    return Raw(buf[lt:]), n
                return Comment(buf[start:end], buf[lt : end + 3]), end + 3
            if (
                not final
                and len(rest) < 7
                and ("--".startswith(rest) or "doctype".startswith(rest.lower()))
            ):
                return None, _NEED_MORE
            if rest.lower() == "doctype":
                token, end = self._until(lt, ">", final)
                if isinstance(token, Raw):
                    return Doctype(token.raw), end
                return token, end
            return self._until(lt, ">", final)
        if c == "?":
            return self._until(lt, ">", final)
        return None, i

    def _until(self, lt: int, close: str, final: bool) -> tuple[Token | None, int]:
        end = self._buf.find(close, lt + 1)
        if end == -1:
            return (Raw(self._buf[lt:]), len(self._buf)) if final else (None, _NEED_MORE)
        return Raw(self._buf[lt : end + len(close)]), end + len(close)

    def _start_tag(self, lt: int, final: bool) -> tuple[Token | None, int]:
        buf, n = self._buf, len(self._buf)
        incomplete: tuple[Token | None, int] = (Raw(buf[lt:]), n) if final else (None, _NEED_MORE)
        j = lt + 1
        while j < n and buf[j] not in _SPACE and buf[j] not in "/>":
            j += 1
        tag = StartTag(buf[lt + 1 : j].lower())
        self_closing = False
        while True:
            while j < n and (buf[j] in _SPACE or buf[j] == "/"):
                self_closing = buf[j] == "/"
                j += 1
            if j >= n:
                return incomplete
            if buf[j] == ">":
                tag.self_closing = self_closing and buf[j - 1] == "/"
                tag.raw = buf[lt : j + 1]
                return tag, j + 1
            self_closing = False
            start = j
            j += 1  # a first `=` belongs to the name, as in the HTML spec
            while j < n and buf[j] not in _SPACE and buf[j] not in "/>=":
                j += 1
            name = buf[start:j].lower()
            k = j
            while k < n and buf[k] in _SPACE:
                k += 1
            if k >= n:
                return incomplete
            if buf[k] != "=":
                tag.attrs.append(Attr(name, "", buf[start:j]))
                continue
            k += 1
            while k < n and buf[k] in _SPACE:
                k += 1
            if k >= n:
                return incomplete
            if buf[k] in "\"'":
                close = buf.find(buf[k], k + 1)
                if close == -1:
                    return incomplete
                value, j = buf[k + 1 : close], close + 1
            else:
                j = k
                while j < n and buf[j] not in _SPACE and buf[j] != ">":
                    j += 1
                if j >= n:
                    return incomplete
                value = buf[k:j]
            tag.attrs.append(Attr(name, value, buf[start:j]))
