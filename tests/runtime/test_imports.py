"""Inside a worker process the runtime's modules win over any installed namesake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from wranglerpy.runtime.child import _prepare_imports
_prepare_imports((sys.argv[1],))
import asgi, js, pyodide, workers
print(workers.__file__); print(js.__file__); print(asgi.__file__); print(pyodide.__file__)
"""


def test_vendored_runtime_sdk_cannot_shadow_the_runtime_modules(tmp_path: Path) -> None:
    vendored = tmp_path / "python_modules"
    for name in ("workers", "pyodide"):
        (vendored / name).mkdir(parents=True)
        (vendored / name / "__init__.py").write_text("import _pyodide_entrypoint_helper\n")
    for name in ("js", "asgi"):
        (vendored / f"{name}.py").write_text("raise ImportError('the Pyodide-only one')\n")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(vendored)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    files = result.stdout.split()
    assert len(files) == 4 and all("/runtime/shim/" in f for f in files), files
