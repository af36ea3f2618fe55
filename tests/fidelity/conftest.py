"""Fidelity tests: each pins one behaviour of Cloudflare's Python Workers to its source.

References (read at these commits):
- SDK: cloudflare/workers-py b00837d4, packages/runtime-sdk/src/workers/ (``SDK/<file>:<line>``)
- workerd: cloudflare/workerd 6552d999 (``workerd/<path>:<line>``)

Worker code imports ``workers``/``js``/``pyodide`` from the runtime's shim, as in a worker
process; the shim folder is put first on sys.path here.
"""

from __future__ import annotations

import sys

from tests.runtime.conftest import harness  # noqa: F401 - the in-process worker app fixture
from wranglerpy.runtime.child import SHIM_DIR

if str(SHIM_DIR) not in sys.path:
    sys.path.insert(0, str(SHIM_DIR))
