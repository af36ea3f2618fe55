"""A part of Pyodide's API, as worker code imports it on Cloudflare."""

__version__ = "0.28.2"
