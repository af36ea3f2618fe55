"""wranglerpy: run a multi-worker Cloudflare-Workers-style deployment on one machine.

Worker code imports the runtime API from ``workers`` (as on Cloudflare Python Workers);
the same names are importable from here for code that prefers an explicit import.
"""

from __future__ import annotations

__version__ = "0.1.0"
