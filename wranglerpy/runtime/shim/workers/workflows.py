"""`workers.workflows` as Cloudflare Python Workers provide it: ``NonRetryableError``."""

from wranglerpy.bindings.workflows.errors import NonRetryableError

__all__ = ["NonRetryableError"]
