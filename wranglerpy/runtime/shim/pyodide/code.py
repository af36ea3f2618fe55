"""`pyodide.code`: ``relaxed_call``, as Python Workers import it."""

from wranglerpy.runtime.entrypoint import relaxed_call

__all__ = ["relaxed_call"]
