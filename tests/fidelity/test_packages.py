"""Deliver 7: dependencies with native code that Pyodide does not ship get a warning."""

from __future__ import annotations

from pathlib import Path

from wranglerpy.logs.hub import LogHub
from wranglerpy.supervisor.pyodide_packages import pyodide_set, undeployable
from wranglerpy.supervisor.python_deps import ensure_dependencies


def test_vendored_package_set_is_pyodide_0_28_2() -> None:
    """The set Python Workers deploy with (npm pyodide@0.28.2's pyodide-lock.json; workerd
    build/python_metadata.bzl:20 pins Pyodide 0.28.2)."""
    version, names = pyodide_set()
    assert version == "0.28.2"
    assert {"numpy", "pydantic-core", "httpx"} <= names and "greenlet" not in names


def test_native_packages_outside_the_set_are_named() -> None:
    # greenlet: compiled, not built for Pyodide; numpy: compiled, in the set; httpx: pure.
    assert undeployable(["greenlet", "numpy", "httpx", "not-installed-xyz"]) == ["greenlet"]


async def test_dev_and_deploy_warn(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "w"\ndependencies = ["greenlet", "httpx"]\n'
    )
    hub = LogHub()
    events: list[dict] = []
    hub.subscribe(events.append)
    assert await ensure_dependencies(tmp_path, hub, "w") is None  # both already installed
    warnings = [e["message"] for e in events if e.get("level") == "warn"]
    assert len(warnings) == 1 and warnings[0].startswith("▲ greenlet has native code")
    assert "Pyodide 0.28.2" in warnings[0]
