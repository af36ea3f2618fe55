"""The page's files ship with the package and are exactly the ones the app serves."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

from wranglerpy.services.dashboard import app

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[3]
STATIC = Path(app.__file__).parent / "static"


def test_every_static_file_is_served_and_shipped() -> None:
    files = sorted(p.name for p in STATIC.iterdir() if p.is_file())
    assert files == sorted(app.STATIC)
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["wranglerpy"]
    for name in files:
        path = f"services/dashboard/static/{name}"
        assert any(fnmatch.fnmatch(path, g) for g in globs), path
