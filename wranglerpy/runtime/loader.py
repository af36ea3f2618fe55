"""Import a worker's ``main`` module and find what handles its requests.

As workerd's Python entrypoint does it (``src/pyodide/python-entrypoint-helper.ts``), by
compatibility date: from 2025-08-14 (``python_no_global_handlers``) a ``WorkerEntrypoint``
subclass named ``Default`` answers with its ``fetch`` method and module-level handlers are
ignored; before, module-level ``on_fetch``/``on_scheduled``/``on_queue``/``test`` are the
handlers, and ``Default``'s fetch method is named ``on_fetch``. Entrypoint classes count when
the main module exports them (imported ones too; ``__all__`` is honoured). An ASGI ``app``
is wranglerpy's own convenience.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from wranglerpy.runtime.compat import Compat
from wranglerpy.runtime.compat import set_process as set_process_compat
from wranglerpy.runtime.entrypoint import WorkerEntrypoint


class WorkerLoadError(Exception):
    """The worker's code could not be imported or has no handler; ``detail`` is the traceback."""

    def __init__(self, message: str, detail: str = "", error_name: str = "WorkerLoadError") -> None:
        super().__init__(message)
        self.detail = detail
        self.error_name = error_name


def project_modules(root: Path, modules: Iterable[ModuleType] | None = None) -> list[str]:
    """Files of the imported modules (``modules``, else all of ``sys.modules``) that live under
    ``root`` (the worker's own code), so the supervisor reloads a worker only when a file it
    actually imports changes."""
    root = root.resolve()
    found = []
    for module in list(sys.modules.values()) if modules is None else modules:
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if root in path.parents and "site-packages" not in path.parts:
            found.append(str(path))
    return sorted(set(found))


@dataclass
class LoadedWorker:
    module: ModuleType
    entrypoints: dict[str, type[WorkerEntrypoint]] = field(default_factory=dict)
    on_fetch: Any = None
    on_scheduled: Any = None
    on_queue: Any = None
    test: Any = None
    asgi_app: Any = None
    legacy_handlers: bool = False

    @property
    def default(self) -> type[WorkerEntrypoint] | None:
        return self.entrypoints.get("Default")

    def method_name(self, handler: str) -> str:
        """The Python method that answers ``handler`` on an entrypoint class: before
        ``python_no_global_handlers``, ``fetch``/``connect`` are looked up as ``on_fetch``/
        ``on_connect`` (python-entrypoint-helper.ts:418-426)."""
        if self.legacy_handlers and handler in ("fetch", "connect"):
            return "on_" + handler
        return handler

    def has_fetch(self) -> bool:
        default = self.default
        return bool(
            (default is not None and hasattr(default, self.method_name("fetch")))
            or self.on_fetch
            or self.asgi_app
        )


def _is_asgi_app(obj: Any) -> bool:
    if obj is None or isinstance(obj, (type, ModuleType)):
        return False
    call = obj if inspect.isfunction(obj) else getattr(obj, "__call__", None)  # noqa: B004
    if call is None:
        return False
    try:
        params = [
            p
            for p in inspect.signature(call).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return False
    return len(params) == 3 and inspect.iscoroutinefunction(call)


def import_main(main: Path) -> ModuleType:
    """Import ``main`` as a top-level module with its folder first on ``sys.path``, so sibling
    modules import as they do on Cloudflare (where the main's folder is the bundle root)."""
    folder = str(main.parent.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = main.stem
    if main.name == "__init__.py":
        # A package as main: import it by its folder name from the folder above.
        parent = str(main.parent.parent.resolve())
        if parent not in sys.path:
            sys.path.insert(0, parent)
        name = main.parent.name
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(name)


_OWN = str(Path(__file__).resolve().parent.parent)  # wranglerpy's own files


def user_traceback(exc: BaseException) -> str:
    """The traceback of a failed import without the frames of the import machinery or of
    wranglerpy (a syntax error then reads as its file, line and caret)."""
    import traceback

    tb = traceback.TracebackException.from_exception(exc)
    tb.stack = traceback.StackSummary.from_list(
        [
            frame
            for frame in tb.stack
            if not frame.filename.startswith(("<frozen ", _OWN))
            and not frame.filename.endswith(f"importlib{os.sep}__init__.py")
        ]
    )
    return "".join(tb.format())


def _exported_entrypoints(module: ModuleType) -> dict[str, type[WorkerEntrypoint]]:
    """The entrypoint classes the module exports, by class name (introspection.py:40-62)."""
    names = getattr(module, "__all__", None)
    keys = list(names) if names is not None else [k for k in dir(module) if not k.startswith("_")]
    found: dict[str, type[WorkerEntrypoint]] = {}
    for key in keys:
        value = getattr(module, key, None)
        if (
            inspect.isclass(value)
            and issubclass(value, WorkerEntrypoint)
            and value is not WorkerEntrypoint
        ):
            found[value.__name__] = value
    return found


def import_worker(
    main: Path, compatibility_date: str | None = None, compatibility_flags: tuple[str, ...] = ()
) -> LoadedWorker:
    """Import the module and classify its handlers; raise WorkerLoadError with the traceback."""
    from wranglerpy.runtime.entropy import top_level_scope

    compat = Compat.of(compatibility_date, compatibility_flags)
    set_process_compat(compat)
    from wranglerpy.runtime import webloop

    webloop.set_asyncio_run_waits(compat.pyodide_028_or_later)  # Pyodide's asyncio.run patch
    webloop.install()  # before the worker's import, as Pyodide patches time.sleep at start-up

    if not main.is_file():
        raise WorkerLoadError(f"The entry-point file at {main} was not found.")
    if main.suffix != ".py":
        raise WorkerLoadError(
            f"{main.name} is not a Python module: wranglerpy runs Python workers "
            "(Cloudflare Python Workers); point `main` at a .py file."
        )
    try:
        with top_level_scope():
            module = import_main(main)
    except (Exception, SystemExit) as exc:  # a user's import may raise anything
        raise WorkerLoadError(str(exc), user_traceback(exc), type(exc).__name__) from None

    loaded = LoadedWorker(module=module, legacy_handlers=not compat.no_global_handlers)
    loaded.entrypoints = _exported_entrypoints(module)
    if loaded.legacy_handlers and loaded.default is None:
        # A Default class is the default export; module-level handlers only count without
        # one (python-entrypoint.js:63, python-entrypoint-helper.ts:608-622).
        loaded.on_fetch = _function(module, "on_fetch")
        loaded.on_scheduled = _function(module, "on_scheduled")
        loaded.on_queue = _function(module, "on_queue")
        loaded.test = _function(module, "test")
    app = getattr(module, "app", None)
    if loaded.default is None and loaded.on_fetch is None and _is_asgi_app(app):
        loaded.asgi_app = app
    # A consumer-only worker (queues) may define only a module-level on_queue.
    queue_only = getattr(module, "on_queue", None) is not None
    handlers = (loaded.on_scheduled, loaded.on_queue, loaded.test, queue_only)
    if not loaded.has_fetch() and not loaded.entrypoints and not any(handlers):
        if loaded.legacy_handlers:
            hint = "an `on_fetch(request, env)` function, or `class Default(WorkerEntrypoint)`"
        else:
            hint = (
                "`class Default(WorkerEntrypoint)` with `async def fetch(self, request)` "
                "(module-level `on_fetch` is ignored from compatibility date 2025-08-14)"
            )
        raise WorkerLoadError(f"{main.name} has no handler: define {hint}, or an ASGI `app`.")
    return loaded


def _function(module: ModuleType, name: str) -> Any:
    value = getattr(module, name, None)
    return value if callable(value) else None
