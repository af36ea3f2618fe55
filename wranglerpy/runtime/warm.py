"""What a spare worker process imports before it is given a worker (the ``warm`` phase).

A reload hands the new code to a warm spare, so whatever the spare has not imported yet is
paid for while the new version is not serving: the ``workers``/``js``/``pyodide`` shim's
runtime modules, the binding modules and the event loop took about two thirds of a reload
(measured with ``bench/dev_bench.sh``). The shim packages themselves are not imported here:
they go on ``sys.path`` only once the worker's own paths are known (``child._prepare_imports``).
"""

from __future__ import annotations

import ast
import contextlib
import importlib
from pathlib import Path

SHIM_DIR = Path(__file__).parent / "shim"

# Built for most workers by ``build_env``; the AI and Vectorize modules are left out: they
# load model runtimes, which a worker without those bindings should not pay for in memory.
BINDING_MODULES = (
    "wranglerpy.bindings.registry",
    "wranglerpy.bindings.kv",
    "wranglerpy.bindings.d1",
    "wranglerpy.bindings.r2",
    "wranglerpy.bindings.analytics_engine",
    "wranglerpy.bindings.queues",
    "wranglerpy.bindings.workflows",
    "wranglerpy.bindings.background",
    "wranglerpy.runtime.current",
    "wranglerpy.runtime.entropy",
    "wranglerpy.runtime.webloop",
)
# Imported by a worker only when it uses them (lazily, so a process loaded at once does not
# pay for them); a spare has them ready for a reload.
ON_DEMAND_MODULES = (
    "wranglerpy.bindings.durable_objects",  # a worker with [durable_objects] or migrations
    "pathspec",  # [assets]: .assetsignore
    "wranglerpy.runtime.htmlrewriter",  # `from js import HTMLRewriter`
)


def shim_imports(shim_dir: Path = SHIM_DIR) -> list[tuple[str, tuple[str, ...]]]:
    """``(module, names imported from it)`` for each ``wranglerpy`` import in the shim's files."""
    found: set[tuple[str, tuple[str, ...]]] = set()
    for path in sorted(shim_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add((node.module, tuple(alias.name for alias in node.names)))
            elif isinstance(node, ast.Import):
                found.update((alias.name, ()) for alias in node.names)
    return sorted(item for item in found if item[0].split(".")[0] == "wranglerpy")


def preload(http: bool) -> None:
    """Import what loading any worker would import; ``http``: the process will serve HTTP."""
    for name in BINDING_MODULES + ON_DEMAND_MODULES:
        importlib.import_module(name)
    for name, names in shim_imports():
        module = importlib.import_module(name)
        for attribute in names:  # `from wranglerpy.runtime import workers_api`: a submodule
            if not hasattr(module, attribute):
                importlib.import_module(f"{name}.{attribute}")
    if http:
        import wranglerpy.runtime.asgi_server  # noqa: F401
    with contextlib.suppress(ImportError):  # the `fast` extra: the worker's event loop
        import uvloop  # noqa: F401
