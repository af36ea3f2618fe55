"""Test helpers for projects built with wranglerpy.

``DevServer`` runs the real ``wranglerpy dev`` for a test; the pytest plugin (loaded
automatically once wranglerpy is installed) provides the ``wranglerpy_dev`` fixture::

    def test_health(wranglerpy_dev):
        dev = wranglerpy_dev("wrangler.toml", "wrangler-streaming.toml")
        assert dev.client("inference-ui-api").get("/health").status_code == 200
"""

from wranglerpy.testing.dev_server import DevServer, DevServerError, free_port

__all__ = ["DevServer", "DevServerError", "free_port"]
