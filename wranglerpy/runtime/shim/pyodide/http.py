"""`pyodide.http`: ``pyfetch`` and ``FetchResponse`` (see wranglerpy.runtime.pyfetch)."""

from wranglerpy.runtime.messages import Response as FetchResponse
from wranglerpy.runtime.pyfetch import pyfetch

__all__ = ["FetchResponse", "pyfetch"]
