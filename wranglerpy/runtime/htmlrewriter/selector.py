"""CSS selectors for ``HTMLRewriter.on``: the subset Cloudflare's lol-html supports.

Supported: ``*``, ``E``, ``.class``, ``#id``, ``[attr]``, ``[attr=v]`` (also ``~= ^= $= *= |=``,
with the ``i``/``s`` flags), ``:nth-child()``, ``:first-child``, ``:nth-of-type()``,
``:first-of-type``, ``:not()`` of compound selectors, the descendant (``E F``) and child
(``E > F``) combinators, and comma-separated lists. Anything else raises :class:`SelectorError`
when the selector is registered, as Cloudflare does, instead of silently never matching.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class SelectorError(TypeError):
    """A selector outside the supported subset, or not a selector at all."""

    def __init__(self, selector: str, reason: str) -> None:
        # Cloudflare's wording ("Parser error: ..."), plus the selector, which it leaves out.
        super().__init__(f"Parser error: {reason} (selector: {selector!r})")
        self.selector = selector


@dataclass(frozen=True)
class Node:
    """What a selector sees of an element: its original name and attributes, and its position."""

    tag: str
    attrs: Mapping[str, str]
    index: int = 1  # among its parent's element children, from 1
    type_index: int = 1  # among its parent's element children with the same tag, from 1


@dataclass(frozen=True)
class _AttrTest:
    name: str
    op: str | None  # None: only presence
    value: str = ""
    ignore_case: bool = False

    def matches(self, attrs: Mapping[str, str]) -> bool:
        actual = attrs.get(self.name)
        if actual is None:
            return False
        if self.op is None:
            return True
        want = self.value
        if self.ignore_case:
            actual, want = actual.lower(), want.lower()
        if self.op == "=":
            return actual == want
        if self.op == "~=":
            return bool(want) and want in actual.split()
        if self.op == "^=":
            return bool(want) and actual.startswith(want)
        if self.op == "$=":
            return bool(want) and actual.endswith(want)
        if self.op == "*=":
            return bool(want) and want in actual
        return actual == want or actual.startswith(want + "-")  # |=


@dataclass(frozen=True)
class _Nth:
    a: int
    b: int
    of_type: bool

    def matches(self, node: Node) -> bool:
        position = node.type_index if self.of_type else node.index
        if self.a == 0:
            return position == self.b
        steps, rest = divmod(position - self.b, self.a)
        return rest == 0 and steps >= 0


@dataclass
class _Compound:
    tag: str | None = None  # None or "*": any element
    ids: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    attrs: list[_AttrTest] = field(default_factory=list)
    nths: list[_Nth] = field(default_factory=list)
    negations: list[list[_Compound]] = field(default_factory=list)

    def matches(self, node: Node) -> bool:
        if self.tag not in (None, "*") and node.tag != self.tag:
            return False
        if self.ids and any(node.attrs.get("id") != i for i in self.ids):
            return False
        if self.classes:
            classes = node.attrs.get("class", "").split()
            if any(c not in classes for c in self.classes):
                return False
        if not all(test.matches(node.attrs) for test in self.attrs):
            return False
        if not all(nth.matches(node) for nth in self.nths):
            return False
        return not any(c.matches(node) for group in self.negations for c in group)


# One complex selector, left to right: (combinator before the compound, compound).
_Complex = list[tuple[str, _Compound]]

_IDENT = re.compile(r"-?(?:[A-Za-z_\u0080-\U0010ffff]|\\.)(?:[\w\-\u0080-\U0010ffff]|\\.)*")
_NTH = re.compile(r"^(?:([+-]?\d*)n(?:\s*([+-])\s*(\d+))?|([+-]?\d+))$", re.IGNORECASE)


def _unescape(ident: str) -> str:
    return re.sub(r"\\(.)", r"\1", ident)


def _parse_nth(text: str) -> tuple[int, int] | None:
    text = text.strip().lower()
    if text == "odd":
        return 2, 1
    if text == "even":
        return 2, 0
    m = _NTH.match(text)
    if m is None:
        return None
    if m.group(4) is not None:
        return 0, int(m.group(4))
    coef = m.group(1)
    a = -1 if coef == "-" else 1 if coef in ("", "+") else int(coef)
    b = int(m.group(3)) if m.group(3) else 0
    return a, -b if m.group(2) == "-" else b


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.s = text
        self.i = 0

    def fail(self, reason: str) -> SelectorError:
        return SelectorError(self.text, reason)

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip_ws(self) -> bool:
        start = self.i
        while self.peek() in (" ", "\t", "\n", "\r", "\f") and self.peek():
            self.i += 1
        return self.i > start

    def ident(self) -> str:
        m = _IDENT.match(self.s, self.i)
        if m is None:
            raise self.fail("Unexpected token in selector.")
        self.i = m.end()
        return _unescape(m.group())

    def selector_list(self, nested: bool = False) -> list[_Complex]:
        result = [self.complex(nested)]
        while self.peek() == ",":
            self.i += 1
            result.append(self.complex(nested))
        return result

    def complex(self, nested: bool) -> _Complex:
        self.skip_ws()
        parts: _Complex = [(" ", self.compound())]
        while True:
            spaced = self.skip_ws()
            c = self.peek()
            if c in ("", ",", ")"):
                return parts
            if c in ("+", "~"):
                raise self.fail(f"Unsupported combinator `{c}` in selector.")
            if c == ">":
                self.i += 1
                self.skip_ws()
                combinator = ">"
            elif spaced:
                combinator = " "
            else:
                raise self.fail("Unexpected token in selector.")
            if nested:  # :not() takes compound selectors only, in lol-html as in CSS 3
                raise self.fail("Unsupported combinator in :not() in selector.")
            parts.append((combinator, self.compound()))

    def compound(self) -> _Compound:
        compound = _Compound()
        start = self.i
        if self.peek() == "*":
            self.i += 1
            compound.tag = "*"
        elif _IDENT.match(self.s, self.i):
            compound.tag = self.ident().lower()
        while True:
            c = self.peek()
            if c == ".":
                self.i += 1
                compound.classes.append(self.ident())
            elif c == "#":
                self.i += 1
                compound.ids.append(self.ident())
            elif c == "[":
                compound.attrs.append(self.attribute())
            elif c == ":":
                self.pseudo(compound)
            else:
                break
        if self.i == start:
            raise self.fail(
                "Selector is empty." if not self.s.strip() else "Unexpected token in selector."
            )
        return compound

    def attribute(self) -> _AttrTest:
        self.i += 1  # [
        self.skip_ws()
        name = self.ident().lower()
        self.skip_ws()
        op = None
        for candidate in ("~=", "^=", "$=", "*=", "|=", "="):
            if self.s.startswith(candidate, self.i):
                op = candidate
                self.i += len(candidate)
                break
        value, ignore_case = "", False
        if op is not None:
            self.skip_ws()
            quote = self.peek()
            if quote in ("'", '"'):
                end = self.s.find(quote, self.i + 1)
                if end == -1:
                    raise self.fail("Unexpected end of selector (unclosed string).")
                value = self.s[self.i + 1 : end].replace("\\" + quote, quote)
                self.i = end + 1
            else:
                value = self.ident()
            self.skip_ws()
            if self.peek().lower() in ("i", "s"):
                ignore_case = self.peek().lower() == "i"
                self.i += 1
                self.skip_ws()
        if self.peek() != "]":
            raise self.fail("Invalid attribute selector.")
        self.i += 1
        return _AttrTest(name, op, value, ignore_case)

    def pseudo(self, compound: _Compound) -> None:
        self.i += 1  # :
        if self.peek() == ":":
            raise self.fail("Unsupported pseudo-class or pseudo-element in selector.")
        name = self.ident().lower()
        if name in ("first-child", "first-of-type"):
            compound.nths.append(_Nth(0, 1, name == "first-of-type"))
            return
        if name not in ("nth-child", "nth-of-type", "not") or self.peek() != "(":
            raise self.fail("Unsupported pseudo-class or pseudo-element in selector.")
        self.i += 1  # (
        if name == "not":
            inner = self.selector_list(nested=True)
            compound.negations.append([parts[0][1] for parts in inner])
            self.skip_ws()
        else:
            end = self.s.find(")", self.i)
            nth = _parse_nth(self.s[self.i : end]) if end != -1 else None
            if nth is None:
                raise self.fail(f"Invalid argument of :{name}() in selector.")
            compound.nths.append(_Nth(*nth, of_type=name == "nth-of-type"))
            self.i = end
        if self.peek() != ")":
            raise self.fail("Unexpected token in selector.")
        self.i += 1


def _match_complex(parts: _Complex, i: int, chain: Sequence[Node], pos: int) -> bool:
    combinator, compound = parts[i]
    if not compound.matches(chain[pos]):
        return False
    if i == 0:
        return True
    if combinator == ">":
        return pos > 0 and _match_complex(parts, i - 1, chain, pos - 1)
    return any(_match_complex(parts, i - 1, chain, p) for p in range(pos - 1, -1, -1))


class Selector:
    """A parsed selector list; :meth:`matches` tests the last node of an ancestor chain."""

    def __init__(self, text: str) -> None:
        parser = _Parser(text)
        self.text = text
        self._alternatives = parser.selector_list()
        parser.skip_ws()
        if parser.i != len(text):
            raise parser.fail("Unexpected token in selector.")

    def matches(self, chain: Sequence[Node]) -> bool:
        """``chain`` is the element's ancestors from the root, then the element itself."""
        if not chain:
            return False
        last = len(chain) - 1
        return any(
            _match_complex(parts, len(parts) - 1, chain, last) for parts in self._alternatives
        )

    def __repr__(self) -> str:
        return f"Selector({self.text!r})"
