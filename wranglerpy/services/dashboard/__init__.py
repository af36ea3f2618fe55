"""The local dashboard on the services port (``/_dashboard/``): workers and bindings, live
requests with their traces, logs, and read-only browsers for the local state. Plain HTML, CSS
and JS from ``static/`` (no build step, nothing from a CDN); see README.md here."""
