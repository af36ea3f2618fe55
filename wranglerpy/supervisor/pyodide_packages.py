"""Dependencies that would install here but not deploy: native code outside Pyodide's set.

Python Workers run on Pyodide (WebAssembly): a package with compiled code deploys only if
Pyodide builds it. The names of the packages Pyodide 0.28.2 ships are vendored from its
``pyodide-lock.json`` (``wranglerpy/data/pyodide-packages.json``, with its version noted).
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "pyodide-packages.json"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def pyodide_set() -> tuple[str, frozenset[str]]:
    """(Pyodide version, normalized package names)."""
    data: dict[str, Any] = json.loads(DATA.read_text())
    return str(data["pyodide"]), frozenset(normalize(n) for n in data["packages"])


def has_native_code(dist: importlib.metadata.Distribution) -> bool:
    """A wheel that is not pure Python (``Root-Is-Purelib: false``) or ships extension files."""
    wheel = dist.read_text("WHEEL") or ""
    if re.search(r"^Root-Is-Purelib:\s*false", wheel, re.MULTILINE | re.IGNORECASE):
        return True
    return any(str(f).endswith((".so", ".pyd", ".dylib")) for f in dist.files or ())


def undeployable(names: Iterable[str], extra_paths: Iterable[Path] = ()) -> list[str]:
    """The distributions among ``names`` that have native code and are not in Pyodide's set."""
    _, known = pyodide_set()
    search = [str(p) for p in extra_paths]
    found: list[str] = []
    for name in names:
        key = normalize(name)
        if key in known:
            continue
        dists = list(importlib.metadata.distributions(name=name, path=search)) if search else []
        if not dists:
            dists = list(importlib.metadata.distributions(name=name))
        if dists and has_native_code(dists[0]):
            found.append(name)
    return found


def warning(names: list[str]) -> str:
    version, _ = pyodide_set()
    return (
        f"▲ {', '.join(names)} {'has' if len(names) == 1 else 'have'} native code and "
        f"{'is' if len(names) == 1 else 'are'} not in Pyodide {version}'s package set: "
        "it runs here but will fail to deploy to Cloudflare Python Workers."
    )
