"""`workers` as Cloudflare Python Workers provide it, backed by wranglerpy's local runtime."""

from wranglerpy.runtime.api import *  # noqa: F403
from wranglerpy.runtime.api import __all__  # noqa: F401
