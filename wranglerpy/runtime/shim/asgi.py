"""`asgi` (the older top-level name): the same module as ``workers.asgi``."""

import sys

from workers import asgi as _asgi

sys.modules[__name__] = _asgi
