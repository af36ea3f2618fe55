"""``[assets]``: static files served beside (or before) the worker, as Workers Static Assets."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from urllib.parse import unquote

from wranglerpy.config.schema import Assets
from wranglerpy.runtime.headers import Headers, HeadersCopy
from wranglerpy.runtime.messages import Response


class AssetServer:
    def __init__(self, config: Assets) -> None:
        self.root = config.directory.resolve()
        self.not_found_handling = config.not_found_handling
        self.run_worker_first = config.run_worker_first

    def _file(self, path: str) -> Path | None:
        relative = unquote(path).lstrip("/")
        candidate = (self.root / relative).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None  # a path that climbs out of the assets folder
        if candidate.is_file():
            return candidate
        if candidate.is_dir() and (candidate / "index.html").is_file():
            return candidate / "index.html"
        html = candidate.with_name(candidate.name + ".html")
        if relative and html.is_file() and self.root in html.parents:
            return html
        return None

    def _fallback(self, path: str) -> tuple[Path, int] | None:
        if self.not_found_handling == "single-page-application":
            index = self.root / "index.html"
            return (index, 200) if index.is_file() else None
        if self.not_found_handling == "404-page":
            folder = (self.root / unquote(path).lstrip("/")).resolve().parent
            while self.root == folder or self.root in folder.parents:
                page = folder / "404.html"
                if page.is_file():
                    return page, 404
                folder = folder.parent
        return None

    def lookup(self, method: str, path: str, headers: Headers | HeadersCopy) -> Response | None:
        """The asset answering ``path``, or None to let the worker answer."""
        if method not in ("GET", "HEAD"):
            return None
        found = self._file(path)
        status = 200
        if found is None:
            fallback = self._fallback(path)
            if fallback is None:
                return None
            found, status = fallback
        data = found.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in (
            "application/javascript",
            "application/json",
        ):
            content_type += "; charset=utf-8"
        if status == 200 and headers.get("if-none-match") == etag:
            return Response(None, status=304, headers={"etag": etag})
        return Response(
            data,
            status=status,
            headers={
                "content-type": content_type,
                "etag": etag,
                "cache-control": "public, max-age=0, must-revalidate",
            },
        )
