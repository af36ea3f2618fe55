"""A JSON prefix parser that knows a schema's shape, for finishing answers cut off by max_tokens.

:func:`check` parses a text prefix against the schema's shape (objects with their properties
and required keys, arrays, strings, numbers, integers, booleans, null, enum/const, anyOf/oneOf
and type lists) and says whether it is invalid, an incomplete but valid prefix, or a complete
value. json_close.py uses it to find the shortest suffix that completes a truncated answer.
Decoding itself is constrained by llguidance (guided.py).
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from wranglerpy.ai.json_bounds import Bounds, bounds_of, prefix_viable
from wranglerpy.ai.json_refs import SchemaRefs

MAX_STRING = 256
MAX_DIGITS = 16
MAX_WHITESPACE = 12
WHITESPACE = " \n"  # no tabs or CRs: models loop on them


class Status(Enum):
    INVALID = 0
    PARTIAL = 1
    COMPLETE = 2


class _Incomplete(Exception):
    """The text ended inside a value that could still become valid."""


class _Invalid(Exception):
    pass


def check(text: str, schema: dict[str, Any]) -> Status:
    try:
        end = _Parser(text, SchemaRefs(schema)).value(_ws(text, 0), schema)
    except _Incomplete:
        return Status.PARTIAL
    except _Invalid:
        return Status.INVALID
    if end == len(text):
        return Status.COMPLETE
    return Status.INVALID


def _ws(text: str, i: int) -> int:
    start = i
    while i < len(text) and text[i] in WHITESPACE:
        i += 1
    if i - start > MAX_WHITESPACE or text.count("\n", start, i) > 1:
        raise _Invalid
    return i


def _types(schema: dict[str, Any]) -> list[str] | None:
    kind = schema.get("type")
    if kind is None:
        return None
    return [kind] if isinstance(kind, str) else list(kind)


class _Parser:
    def __init__(self, text: str, refs: SchemaRefs) -> None:
        self.text = text
        self.refs = refs

    def value(self, i: int, schema: dict[str, Any]) -> int:
        text = self.text
        schema = self.refs.resolve(schema)
        if i >= len(text):
            raise _Incomplete
        if "const" in schema:
            return self.literal(i, _dump(schema["const"]))
        if "enum" in schema:
            return self.alternatives(
                i, [lambda j, v=v: self.literal(j, _dump(v)) for v in schema["enum"]]
            )
        branches = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(branches, list) and branches:
            return self.alternatives(
                i,
                [lambda j, s=s: self.value(j, s if isinstance(s, dict) else {}) for s in branches],
            )
        types = _types(schema)
        if types is not None and len(types) > 1:
            return self.alternatives(
                i, [lambda j, t=t: self.value(j, {**schema, "type": t}) for t in types]
            )
        kind = types[0] if types else None
        ch = text[i]
        if kind == "object" or (kind is None and ch == "{"):
            return self.object(i, schema)
        if kind == "array" or (kind is None and ch == "["):
            return self.array(i, schema)
        if kind == "string" or (kind is None and ch == '"'):
            return self.string(
                i, int(schema.get("maxLength", MAX_STRING)), int(schema.get("minLength", 0))
            )
        if kind in ("number", "integer") or (kind is None and (ch == "-" or ch.isdigit())):
            return self.number(i, kind == "integer", bounds_of(schema))
        if kind == "boolean":
            return self.alternatives(
                i, [lambda j: self.literal(j, "true"), lambda j: self.literal(j, "false")]
            )
        if kind == "null" or (kind is None and ch == "n"):
            return self.literal(i, "null")
        if kind is None and ch in "tf":
            return self.literal(i, "true" if ch == "t" else "false")
        raise _Invalid

    def alternatives(self, i: int, parsers: list[Any]) -> int:
        incomplete = False
        for parse in parsers:
            try:
                return int(parse(i))
            except _Incomplete:
                incomplete = True
            except _Invalid:
                continue
        if incomplete:
            raise _Incomplete
        raise _Invalid

    def literal(self, i: int, word: str) -> int:
        rest = self.text[i : i + len(word)]
        if not word.startswith(rest):
            raise _Invalid
        if len(rest) < len(word):
            raise _Incomplete
        return i + len(word)

    def string(self, i: int, max_length: int, min_length: int = 0) -> int:
        text = self.text
        if text[i] != '"':
            raise _Invalid
        i += 1
        count = 0
        while i < len(text):
            ch = text[i]
            if ch == '"':
                if count < min_length:
                    raise _Invalid
                return i + 1
            if count >= max_length or ord(ch) < 0x20:
                raise _Invalid
            if ch == "\\":
                if i + 1 >= len(text):
                    raise _Incomplete
                esc = text[i + 1]
                if esc == "u":
                    digits = text[i + 2 : i + 6]
                    if any(c not in "0123456789abcdefABCDEF" for c in digits):
                        raise _Invalid
                    if len(digits) < 4:
                        raise _Incomplete
                    i += 6
                elif esc in '"\\/bfnrt':
                    i += 2
                else:
                    raise _Invalid
            else:
                i += 1
            count += 1
        raise _Incomplete

    def number(self, i: int, integer: bool, bounds: Bounds) -> int:
        text = self.text
        start = i
        negative = text[i] == "-"
        if negative:
            i += 1
        digits_start = i
        while i < len(text) and text[i].isdigit():
            i += 1
        ndigits = i - digits_start
        if ndigits > MAX_DIGITS or (ndigits > 1 and text[digits_start] == "0"):
            raise _Invalid
        digits = text[digits_start:i]
        if bounds.limited and not prefix_viable(negative, digits, None, bounds, integer):
            raise _Invalid
        if i == len(text):
            raise _Incomplete  # a number only ends at a delimiter
        if ndigits == 0:
            raise _Invalid
        if not integer and text[i] == ".":
            i += 1
            frac = i
            while i < len(text) and text[i].isdigit():
                i += 1
            if i - frac > MAX_DIGITS:
                raise _Invalid
            fraction = text[frac:i]
            if bounds.limited and not prefix_viable(negative, digits, fraction, bounds, integer):
                raise _Invalid
            if i == len(text):
                raise _Incomplete
            if i == frac:
                raise _Invalid
        if not integer and text[i] in "eE":
            if bounds.limited:
                raise _Invalid  # exponents would defeat the range check on prefixes
            i += 1
            if i < len(text) and text[i] in "+-":
                i += 1
            exp = i
            while i < len(text) and text[i].isdigit() and i - exp < 3:
                i += 1
            if i == len(text):
                raise _Incomplete
            if i == exp:
                raise _Invalid
        if i == start:
            raise _Invalid
        if bounds.limited and not bounds.admits(float(text[start:i])):
            raise _Invalid
        return i

    def array(self, i: int, schema: dict[str, Any]) -> int:
        text = self.text
        if text[i] != "[":
            raise _Invalid
        items: dict[str, Any] = schema["items"] if isinstance(schema.get("items"), dict) else {}
        low, high = int(schema.get("minItems", 0)), int(schema.get("maxItems", 64))
        i = _ws(text, i + 1)
        count = 0
        while True:
            if i >= len(text):
                raise _Incomplete
            if text[i] == "]" and count >= low:
                return i + 1
            if count > 0:
                if text[i] != "," or count >= high:
                    raise _Invalid
                i = _ws(text, i + 1)
            i = _ws(text, self.value(i, items))
            count += 1

    def object(self, i: int, schema: dict[str, Any]) -> int:
        text = self.text
        if text[i] != "{":
            raise _Invalid
        props: dict[str, Any] = schema.get("properties") or {}
        required = [k for k in schema.get("required", []) if isinstance(k, str)]
        seen: set[str] = set()
        i = _ws(text, i + 1)
        while True:
            if i >= len(text):
                raise _Incomplete
            if text[i] == "}" and all(k in seen for k in required):
                return i + 1
            if seen:
                # A comma needs a key left to write, or the object could never close.
                if text[i] != "," or (props and all(k in seen for k in props)):
                    raise _Invalid
                i = _ws(text, i + 1)
            key, i = self.key(i, props, seen)
            seen.add(key)
            i = _ws(text, i)
            if i >= len(text):
                raise _Incomplete
            if text[i] != ":":
                raise _Invalid
            i = _ws(text, i + 1)
            sub = props.get(key, {})
            i = _ws(text, self.value(i, sub if isinstance(sub, dict) else {}))

    def key(self, i: int, props: dict[str, Any], seen: set[str]) -> tuple[str, int]:
        text = self.text
        if i >= len(text):
            raise _Incomplete
        if text[i] != '"':
            raise _Invalid
        free = [k for k in props if k not in seen]
        try:
            end = self.string(i, MAX_STRING)
        except _Incomplete:
            # Refuse a key as soon as it can no longer become one of the schema's properties.
            if props and not any(_dump(k).startswith(text[i:]) for k in free):
                raise _Invalid from None
            raise
        key = json.loads(text[i:end])
        if key in seen or (props and key not in props):
            raise _Invalid
        return key, end


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
