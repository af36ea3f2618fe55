"""Reading README.md's sections, tables and code blocks for the docs tests."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def section(title: str, text: str | None = None) -> str:
    """The body of the README section whose heading is ``title`` (any level), up to the next
    heading of the same or a higher level (a ``#`` line inside a code block is no heading)."""
    text = README.read_text() if text is None else text
    lines = text.splitlines(keepends=True)
    level = 0
    body: list[str] = []
    fenced = False
    for line in lines:
        heading = not fenced and re.match(r"(#+) ", line)
        if line.startswith("```"):
            fenced = not fenced
        if level and heading and len(heading.group(1)) <= level:
            break
        if level:
            body.append(line)
        elif heading and line[heading.end() :].strip() == title:
            level = len(heading.group(1))
    assert level, f"README.md has no section {title!r}"
    return "".join(body)


def table_rows(body: str) -> list[list[str]]:
    """The cells of every row of the first Markdown table in ``body`` (header and rule left out).

    ``\\|`` inside a cell is a literal bar, as GitHub renders it.
    """
    rows: list[list[str]] = []
    for line in body.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append(cells)
    return rows[2:]


def code_blocks(body: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", body, re.M | re.S)


def flags(text: str) -> set[str]:
    """Every ``--long-flag`` and ``-x`` short flag named in ``text``."""
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z])\b", text))
