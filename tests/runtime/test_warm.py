"""A warm spare has imported the runtime a worker's load would import (``runtime/warm.py``)."""

from __future__ import annotations

import json
import subprocess
import sys

from wranglerpy.runtime.warm import SHIM_MODULES, scan_shim_imports

# In a fresh interpreter: preload, then import every shim module as a worker would, and print
# the wranglerpy modules that the worker's imports still had to load.
PROBE = """
import json, sys
from wranglerpy.runtime.warm import SHIM_DIR, preload
preload(http={http})
before = {{m for m in sys.modules if m.startswith("wranglerpy")}}
sys.path.insert(0, str(SHIM_DIR))
import asgi, js, pyodide, pyodide.code, pyodide.ffi, pyodide.http, pyodide.webloop
import workers, workers.asgi, workers.workflows, workers.wsgi
{extra}
print(json.dumps(sorted(m for m in sys.modules if m.startswith("wranglerpy") and m not in before)))
"""


def late_imports(http: bool, extra: str = "") -> list[str]:
    code = PROBE.format(http=http, extra=extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_shim_after_preload_imports_no_more_runtime():
    assert late_imports(http=False) == []


def test_a_dev_spare_has_its_http_server_and_the_common_bindings():
    extra = (
        "import wranglerpy.host.http_server, wranglerpy.bindings.kv, wranglerpy.bindings.d1,"
        " wranglerpy.bindings.registry, wranglerpy.runtime.current"
    )
    assert late_imports(http=True, extra=extra) == []


def test_the_pinned_shim_modules_are_the_shims_own():
    """``SHIM_MODULES`` is written down, not parsed at each start: it must follow the shim."""
    scanned = scan_shim_imports()
    assert SHIM_MODULES == scanned, (
        "the shim's wranglerpy imports changed; set SHIM_MODULES in wranglerpy/runtime/warm.py "
        f"to:\n{scanned!r}"
    )


def test_the_scan_finds_modules_and_submodules_named_by_an_import(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        "import json\nimport wranglerpy.runtime.ffi\n"
        "from wranglerpy.runtime.headers import Headers\n"
        "from wranglerpy.runtime import workers_api, limits as budget, bindings_that_is_no_module\n"
        "from wranglerpy import bindings\nfrom . import sibling\n"
    )
    assert scan_shim_imports(tmp_path) == (
        "wranglerpy",
        "wranglerpy.bindings",
        "wranglerpy.runtime",
        "wranglerpy.runtime.ffi",
        "wranglerpy.runtime.headers",
        "wranglerpy.runtime.limits",
        "wranglerpy.runtime.workers_api",
    )


# Without preload (a process loaded at once), the shim's runtime and the on-demand modules are
# first imported during the worker's own top-level import, where entropy is blocked as on
# Cloudflare (runtime/entropy.py): none of them may take entropy when imported.
COLD_PROBE = """
import json, sys
from wranglerpy.runtime.entropy import top_level_scope
from wranglerpy.runtime.warm import ON_DEMAND_MODULES, SHIM_DIR
sys.path.insert(0, str(SHIM_DIR))
import importlib
with top_level_scope():
    import asgi, js, pyodide, pyodide.code, pyodide.ffi, pyodide.http, pyodide.webloop
    import workers, workers.asgi, workers.workflows, workers.wsgi
    from js import HTMLRewriter
    for name in ON_DEMAND_MODULES:
        importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("wranglerpy"))))
"""


def test_the_runtime_imports_inside_a_workers_top_level_scope():
    out = subprocess.run(
        [sys.executable, "-c", COLD_PROBE], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "wranglerpy.runtime.htmlrewriter" in json.loads(out.stdout.strip().splitlines()[-1])


def test_a_spare_has_the_on_demand_modules():
    assert late_imports(http=False, extra="from js import HTMLRewriter") == []
