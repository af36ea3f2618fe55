"""CHANGELOG.md's Unreleased section: well-formed entries, and the dependency list as pyproject has it."""

from __future__ import annotations

import re
import sys

from tests.docs.readme import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def unreleased() -> str:
    text = (ROOT / "CHANGELOG.md").read_text()
    start = text.index("## [Unreleased]")
    end = text.find("\n## [", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_every_line_belongs_to_an_entry() -> None:
    """A merge leftover (a line outside any bullet) is caught here, not by a reader."""
    for number, line in enumerate(unreleased().splitlines(), 1):
        if line and not line.startswith(("- ", "  ", "### ", "## ")):
            raise AssertionError(f"Unreleased line {number} is outside any entry: {line!r}")


def test_the_base_dependencies_entry_names_every_core_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=;\[ ]", dep, maxsplit=1)[0] for dep in project["dependencies"]]
    base = re.search(r"^- Base: (.*?)(?=^- |\Z)", unreleased(), re.M | re.S)
    assert base, "no '- Base:' entry under Dependencies"
    missing = [name for name in names if name not in base.group(1)]
    assert not missing, f"CHANGELOG's base dependencies omit {missing}"
