"""wranglerpy: run a multi-worker Cloudflare-Workers-style deployment on one machine.

Worker code imports the runtime API from ``workers`` (and ``js``, ``pyodide``), as on
Cloudflare Python Workers; nothing is re-exported here, since ``from wranglerpy import ...`` in
worker code would not run on Cloudflare. This package is the CLI and the local runtime.
"""

from __future__ import annotations

__version__ = "0.1.0"
