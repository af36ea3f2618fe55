"""``pyodide.http.pyfetch(url, **kwargs)``: Pyodide's fetch wrapper. Keyword arguments are
the fetch options; a network failure is ``OSError`` with the error text, as in Pyodide."""

from __future__ import annotations

from typing import Any

from wranglerpy.runtime.fetch import fetch
from wranglerpy.runtime.request_response import Response


async def pyfetch(url: Any, **kwargs: Any) -> Response:
    kwargs.pop("fetcher", None)
    try:
        return await fetch(url, **kwargs)
    except OSError:
        raise
    except TypeError:
        raise
    except Exception as exc:  # noqa: BLE001 - httpx errors become Pyodide's OSError
        raise OSError(str(exc) or type(exc).__name__) from None
