"""Import a worker's ``main`` module and find what handles its requests.

Three shapes are accepted, as on Cloudflare Python Workers: a ``WorkerEntrypoint`` subclass
(``Default`` answers fetch; any subclass can be a named entrypoint), module-level
``on_fetch(request, env[, ctx])`` functions (the older style), or an ASGI ``app``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from wranglerpy.runtime.entrypoint import WorkerEntrypoint


class WorkerLoadError(Exception):
    """The worker's code could not be imported or has no handler; ``detail`` is the traceback."""

    def __init__(self, message: str, detail: str = "", error_name: str = "WorkerLoadError") -> None:
        super().__init__(message)
        self.detail = detail
        self.error_name = error_name


def project_modules(root: Path) -> list[str]:
    """Files of the imported modules that live under ``root`` (the worker's own code), so the
    supervisor reloads a worker only when a file it actually imports changes."""
    root = root.resolve()
    found = []
    for module in list(sys.modules.values()):
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
    asgi_app: Any = None

    @property
    def default(self) -> type[WorkerEntrypoint] | None:
        return self.entrypoints.get("Default")

    def has_fetch(self) -> bool:
        default = self.default
        return bool(
            (default is not None and hasattr(default, "fetch")) or self.on_fetch or self.asgi_app
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


def import_worker(main: Path) -> LoadedWorker:
    """Import the module and classify its handlers; raise WorkerLoadError with the traceback."""
    if not main.is_file():
        raise WorkerLoadError(f"The entry-point file at {main} was not found.")
    if main.suffix != ".py":
        raise WorkerLoadError(
            f"{main.name} is not a Python module: wranglerpy runs Python workers "
            "(Cloudflare Python Workers); point `main` at a .py file."
        )
    try:
        module = import_main(main)
    except (Exception, SystemExit) as exc:  # a user's import may raise anything
        raise WorkerLoadError(str(exc), user_traceback(exc), type(exc).__name__) from None

    loaded = LoadedWorker(module=module)
    for name, value in vars(module).items():
        if (
            inspect.isclass(value)
            and issubclass(value, WorkerEntrypoint)
            and value is not WorkerEntrypoint
            and value.__module__ == module.__name__
        ):
            loaded.entrypoints[name] = value
    loaded.on_fetch = getattr(module, "on_fetch", None)
    loaded.on_scheduled = getattr(module, "on_scheduled", None)
    app = getattr(module, "app", None)
    if loaded.default is None and loaded.on_fetch is None and _is_asgi_app(app):
        loaded.asgi_app = app
    queue_only = getattr(module, "on_queue", None) is not None  # a consumer-only worker
    if (
        not loaded.has_fetch()
        and not loaded.entrypoints
        and loaded.on_scheduled is None
        and not queue_only
    ):
        raise WorkerLoadError(
            f"{main.name} has no handler: define `class Default(WorkerEntrypoint)` with "
            "`async def fetch(self, request)`, an `on_fetch(request, env)` function, or an ASGI `app`."
        )
    return loaded
