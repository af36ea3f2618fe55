"""The tokenizer of the Analytics Engine SQL subset (ClickHouse's lexical rules, simplified)."""

from __future__ import annotations

from dataclasses import dataclass

from wranglerpy.errors import UsageError


class QueryError(UsageError):
    """An Analytics Engine query that is malformed or uses SQL this subset does not answer."""


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "ident", "qident" (quoted identifier), "op", "eof"
    value: str
    pos: int  # 0-based offset into the query

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.value.upper() in words


OPERATORS = (
    "<=",
    ">=",
    "!=",
    "<>",
    "==",
    "||",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "(",
    ")",
    ",",
    ".",
    ";",
    "[",
    "]",
    ":",
)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"', "`": "`"}


def where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise QueryError(f"Unterminated comment at {where(text, i)}.")
            i = end + 2
        elif ch in "'\"`":
            value, end = _quoted(text, i)
            tokens.append(Token("str" if ch == "'" else "qident", value, i))
            i = end
        elif ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k].isdigit():
                    j = k
                    while j < n and text[j].isdigit():
                        j += 1
            if j < n and (text[j].isalpha() or text[j] == "_"):
                raise QueryError(f"Malformed number {text[i : j + 1]!r} at {where(text, i)}.")
            tokens.append(Token("num", text[i:j], i))
            i = j
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("ident", text[i:j], i))
            i = j
        else:
            op = next((o for o in OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise QueryError(f"Unexpected character {ch!r} at {where(text, i)}.")
            tokens.append(Token("op", op, i))
            i += len(op)
    tokens.append(Token("eof", "", n))
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        elif ch == quote:
            if text.startswith(quote * 2, i):  # '' inside '...'
                out.append(quote)
                i += 2
            else:
                return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    kind = "string" if quote == "'" else "quoted identifier"
    raise QueryError(f"Unterminated {kind} starting at {where(text, start)}.")
