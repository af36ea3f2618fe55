"""What a spare worker process imports before it is given a worker (the ``warm`` phase).

A reload hands the new code to a warm spare, so whatever the spare has not imported yet is
paid for while the new version is not serving: the ``workers``/``js``/``pyodide`` shim's
runtime modules, the binding modules and the event loop took about two thirds of a reload
(measured with ``bench/dev_bench.sh``). The shim packages themselves are not imported here:
they go on ``sys.path`` only once the worker's own paths are known (``child._prepare_imports``).
"""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wranglerpy.config.schema import WorkerConfig

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


# The ``wranglerpy`` modules the shim's files import (``from wranglerpy.runtime import
# workers_api`` names the submodule): what ``preload`` imports for them. Written down rather
# than parsed at each spare's start (the parse cost ~2 ms per spare); ``tests/runtime/
# test_warm.py`` regenerates it with :func:`scan_shim_imports` and fails, printing the new
# value, when the shim has changed.
SHIM_MODULES = (
    "wranglerpy.bindings.workflows.errors",
    "wranglerpy.runtime",
    "wranglerpy.runtime.asgi_lifespan",
    "wranglerpy.runtime.asgi_websocket",
    "wranglerpy.runtime.cache_api",
    "wranglerpy.runtime.entrypoint",
    "wranglerpy.runtime.ffi",
    "wranglerpy.runtime.headers",
    "wranglerpy.runtime.jsglobals",
    "wranglerpy.runtime.jsweb",
    "wranglerpy.runtime.pyfetch",
    "wranglerpy.runtime.request_response",
    "wranglerpy.runtime.typed_arrays",
    "wranglerpy.runtime.webloop",
    "wranglerpy.runtime.websocket",
    "wranglerpy.runtime.workers_api",
    "wranglerpy.runtime.wsgi_bridge",
)


def scan_shim_imports(shim_dir: Path = SHIM_DIR) -> tuple[str, ...]:
    """``SHIM_MODULES`` as the shim's files say it is now: parsed with ``ast``; a name imported
    from a package is a module when the package has a file or folder of that name."""
    import ast

    root = Path(__file__).parent.parent.parent  # the folder holding the wranglerpy package
    found: set[str] = set()
    for path in sorted(shim_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
                folder = root.joinpath(*node.module.split("."))
                for alias in node.names:
                    if (folder / f"{alias.name}.py").is_file() or (folder / alias.name).is_dir():
                        found.add(f"{node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return tuple(sorted(name for name in found if name.split(".")[0] == "wranglerpy"))


def preload(http: bool) -> None:
    """Import what loading any worker would import; ``http``: the process will serve HTTP."""
    for name in BINDING_MODULES + ON_DEMAND_MODULES:
        importlib.import_module(name)
    for name in SHIM_MODULES:
        importlib.import_module(name)
    if http:
        import wranglerpy.host.http_server  # noqa: F401
    with contextlib.suppress(ImportError):  # the `fast` extra: the worker's event loop
        import uvloop  # noqa: F401


def preload_for(config: WorkerConfig, http: bool) -> None:
    """What a process loaded at once (no ``preload``) imports once it knows its worker, before
    the worker's own paths go first on ``sys.path``: the shim's runtime modules, the
    on-demand modules its config needs and, with ``http``, its HTTP server. So the project's
    own packages (its ``python_modules``) never replace the runtime's dependencies, as in a
    spare, which imported them before it had a worker."""
    for name in SHIM_MODULES:
        importlib.import_module(name)
    if config.durable_objects or config.migrations:
        importlib.import_module("wranglerpy.bindings.durable_objects")
    if config.assets:
        importlib.import_module("pathspec")
    if http:
        import wranglerpy.host.http_server  # noqa: F401
