"""`js` as Pyodide exposes it to Cloudflare Python Workers: the JS globals older workers use
(``from js import Response, fetch, console, JSON``), backed by wranglerpy's runtime."""

