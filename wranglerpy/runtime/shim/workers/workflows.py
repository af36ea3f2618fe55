"""`workers.workflows`: ``NonRetryableError``."""

from wranglerpy.runtime.workflows import NonRetryableError

__all__ = ["NonRetryableError"]
