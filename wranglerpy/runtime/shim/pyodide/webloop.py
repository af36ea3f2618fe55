"""`pyodide.webloop`: ``WebLoop`` is the worker's asyncio event loop class."""

from wranglerpy.runtime.webloop import WebLoop

__all__ = ["WebLoop"]
