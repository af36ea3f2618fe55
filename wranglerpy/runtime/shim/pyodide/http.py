"""`pyodide.http`: ``pyfetch`` and ``FetchResponse`` (see wranglerpy.runtime.pyfetch)."""

from wranglerpy.runtime.pyfetch import AbortError, pyfetch
from wranglerpy.runtime.request_response import Response as FetchResponse

__all__ = ["AbortError", "FetchResponse", "pyfetch"]
