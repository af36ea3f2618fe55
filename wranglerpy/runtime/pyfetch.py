"""``pyodide.http.pyfetch(url, **kwargs)``: Pyodide's fetch wrapper, which the SDK's ``fetch``
and a service binding's ``fetch`` go through (SDK ``fetch.py:34-44``, ``rpc.py:352-354``).

Keyword arguments are the fetch options; ``fetcher`` is the JS fetch to call (a binding's).
Any error the JS fetch throws (``JsException``: a relative URL's ``TypeError``, ``Too many
subrequests``, a network failure) is ``AbortError``, an ``OSError`` carrying the error's message
(pyodide ``src/py/pyodide/http.py`` ``pyfetch``, 0.28; the SDK's 0.26 path raises ``OSError``
with the same message, SDK ``fetch.py:16-30``).
"""

from __future__ import annotations

from typing import Any

from wranglerpy.runtime.ffi import JsException
from wranglerpy.runtime.request_response import Response


class AbortError(OSError):
    """Pyodide's ``pyodide.http.AbortError``: a failed fetch, with the JS error's message."""


async def pyfetch(url: Any, /, *, fetcher: Any = None, **kwargs: Any) -> Response:
    from wranglerpy.runtime.sdk_body import sdk_request_body

    if fetcher is None:
        from wranglerpy.runtime.fetch import fetch as fetcher
    try:
        if kwargs.get("body") is not None:
            kwargs["body"] = await sdk_request_body(kwargs["body"])
        response: Response = await fetcher(url, **kwargs)
    except JsException as exc:
        raise AbortError(exc.message) from None
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - httpx's network errors: a rejected JS fetch
        raise AbortError(str(exc) or type(exc).__name__) from None
    return response
