"""`pyodide.http`: ``pyfetch`` and ``FetchResponse`` (see wranglerpy.runtime.pyfetch)."""

from wranglerpy.runtime.pyfetch import pyfetch
from wranglerpy.runtime.request_response import Response as FetchResponse

__all__ = ["FetchResponse", "pyfetch"]
