"""A small part of Pyodide's API, as worker code imports it on Cloudflare."""
