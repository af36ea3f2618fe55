"""A project's Python dependencies, as Cloudflare Python Workers declare them.

``pyproject.toml`` beside the config lists them under ``[project] dependencies`` (what
``pywrangler`` vendors into ``python_modules``). Those already satisfied by the running
environment are used as they are; the rest are installed once with pip into
``.wranglerpy/python_modules/<hash>/`` beside the config and put on the worker's ``sys.path``.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from wranglerpy.config.persist import STATE_DIRNAME
from wranglerpy.errors import ConfigError
from wranglerpy.logs.hub import LogHub

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from packaging.requirements import Requirement


def _parse(requirement: str) -> Requirement | None:
    """``requirement`` parsed; None when it does not parse or ``packaging`` is missing.
    ``packaging`` is imported here, not with the module: every ``dev`` start imports this
    module, and only a project that declares dependencies needs it (~45 ms)."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # pragma: no cover - packaging ships with pip and setuptools
        return None
    try:
        return Requirement(requirement)
    except InvalidRequirement:
        return None


def declared_dependencies(project_root: Path) -> list[str]:
    """``[project] dependencies`` of ``pyproject.toml`` in ``project_root`` (empty if none)."""
    path = project_root / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    deps = (data.get("project") or {}).get("dependencies") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise ConfigError(
            "expected a list of requirement strings", file=str(path), key="project.dependencies"
        )
    return deps


# Distributions a Python Workers project declares that the runtime provides itself (the
# `workers` SDK, the pywrangler CLI, type stubs for `js`): never installed for a worker.
RUNTIME_PROVIDED = frozenset({"workers-runtime-sdk", "workers-py", "webtypy"})


def provided_by_runtime(requirement: str) -> bool:
    parsed = _parse(requirement)
    if parsed is None:
        return False
    return parsed.name.lower().replace("_", "-").replace(".", "-") in RUNTIME_PROVIDED


def is_satisfied(requirement: str) -> bool:
    """Whether the running environment already has a distribution that meets ``requirement``."""
    parsed = _parse(requirement)
    if parsed is None:
        return False
    if parsed.marker is not None and not parsed.marker.evaluate():
        return True  # not meant for this platform
    try:
        installed = metadata.version(parsed.name)
    except metadata.PackageNotFoundError:
        return False
    return parsed.specifier.contains(installed, prereleases=True)


def modules_dir(project_root: Path, requirements: list[str]) -> Path:
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    return project_root / STATE_DIRNAME / "python_modules" / digest


async def ensure_dependencies(project_root: Path, hub: LogHub, worker: str) -> Path | None:
    """Install what the running environment lacks; the folder to add to ``sys.path``, if any."""
    declared = [d for d in declared_dependencies(project_root) if not provided_by_runtime(d)]
    missing = [d for d in declared if not is_satisfied(d)]
    target = await _install(project_root, hub, worker, missing) if missing else None
    _warn_undeployable(declared, target, hub, worker)
    return target


def _warn_undeployable(declared: list[str], target: Path | None, hub: LogHub, worker: str) -> None:
    from wranglerpy.supervisor.pyodide_packages import undeployable, warning

    names = [parsed.name for parsed in map(_parse, declared) if parsed is not None]
    native = undeployable(names, [target] if target is not None else [])
    if native:
        hub.system(warning(native), worker=worker, level="warn")


async def _install(project_root: Path, hub: LogHub, worker: str, missing: list[str]) -> Path | None:
    target = modules_dir(project_root, missing)
    marker = target / ".complete"
    if marker.exists():
        return target
    hub.system(
        f"Installing Python packages from pyproject.toml: {', '.join(missing)}", worker=worker
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(target),
        *missing,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    if proc.returncode != 0:
        tail = output.decode(errors="replace").strip().splitlines()[-5:]
        hub.system(
            "✘ pip could not install " + ", ".join(missing) + ":\n" + "\n".join(tail),
            worker=worker,
            level="error",
        )
        return None
    marker.write_text("\n".join(missing) + "\n")
    hub.system(f"✨ Installed {len(missing)} package(s) into {target}", worker=worker)
    return target
