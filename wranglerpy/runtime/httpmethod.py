"""``http.HTTPMethod`` (Python 3.11+), with a stand-in of the same shape on Python 3.10."""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from http import HTTPMethod as HTTPMethod
else:  # pragma: no cover - exercised on Python 3.10 only

    class HTTPMethod(str, Enum):
        """HTTP methods as a ``str`` enum: ``HTTPMethod.GET == "GET"``."""

        CONNECT = "CONNECT"
        DELETE = "DELETE"
        GET = "GET"
        HEAD = "HEAD"
        OPTIONS = "OPTIONS"
        PATCH = "PATCH"
        POST = "POST"
        PUT = "PUT"
        TRACE = "TRACE"

        def __str__(self) -> str:
            return self.value
