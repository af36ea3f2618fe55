"""The package READMEs' module maps (``wranglerpy/*/README.md``) match the package.

A newcomer reads these maps to find where a job is done. A module that was renamed or folded
away must not stay on the map, and a new module must be placed on it (issue 10: the maps named
``deploy/fleet.py`` after it was gone and left out half of ``host/``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.readme import ROOT

PACKAGE = ROOT / "wranglerpy"
READMES = sorted(
    p for p in PACKAGE.rglob("README.md") if any(p.parent.glob("*.py")) and "static" not in p.parts
)
# A module path in backticks: `pool.py`, `s3/auth.py`, `runtime/latency.py`, `tests/host/fakes.py`.
MODULE = re.compile(r"(?<![\w/.-])([\w-]+(?:/[\w-]+)*\.py)\b")
# A folder in backticks, alone: `shim/`, `htmlrewriter/`.
FOLDER = re.compile(r"^([\w-]+)/$")


def named(readme: Path) -> tuple[set[str], set[str]]:
    """The module paths and the folder names a README writes in backticks."""
    modules: set[str] = set()
    folders: set[str] = set()
    for span in re.findall(r"`([^`\n]+)`", readme.read_text()):
        modules.update(MODULE.findall(span))
        if folder := FOLDER.match(span.strip()):
            folders.add(folder.group(1))
    return modules, folders


def resolve(folder: Path, path: str) -> Path | None:
    """Where a README's module path points: beside the README, in the package, or in the repo."""
    for base in (folder, PACKAGE, ROOT):
        if (base / path).is_file():
            return (base / path).resolve()
    return None


def ids(paths: list[Path]) -> list[str]:
    return [str(p.parent.relative_to(PACKAGE)) for p in paths]


def test_the_maps_are_found() -> None:
    folders = {p.parent.name for p in READMES}
    assert {"host", "deploy", "runtime", "supervisor", "ai", "services"} <= folders


@pytest.mark.parametrize("readme", READMES, ids=ids(READMES))
def test_every_module_a_map_names_exists(readme: Path) -> None:
    modules, _folders = named(readme)
    gone = sorted(m for m in modules if resolve(readme.parent, m) is None)
    assert not gone, f"{readme.relative_to(ROOT)} names modules that do not exist: {gone}"


@pytest.mark.parametrize("readme", READMES, ids=ids(READMES))
def test_every_module_of_the_package_is_on_its_map(readme: Path) -> None:
    """Each module beside the README is named; so is each subpackage without its own README,
    as a folder (`shim/`) or, once one of its modules is named, by every module."""
    folder = readme.parent
    modules, folders = named(readme)
    on_map = {p for m in modules if (p := resolve(folder, m)) is not None}
    missing: list[str] = []
    for path in sorted(folder.glob("*.py")):
        if path.name != "__init__.py" and path.resolve() not in on_map:
            missing.append(path.name)
    for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
        if (sub / "README.md").is_file():
            continue  # mapped by its own README
        inside = [p for p in sorted(sub.rglob("*.py")) if p.name != "__init__.py"]
        if not any(p.resolve() in on_map for p in inside):
            if sub.name not in folders:
                missing.append(f"{sub.name}/")
            continue
        missing += [str(p.relative_to(folder)) for p in inside if p.resolve() not in on_map]
    assert not missing, f"{readme.relative_to(ROOT)} leaves out: {missing}"
