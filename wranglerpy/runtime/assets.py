"""``[assets]``: static files served beside (or before) the worker, as Workers Static Assets."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote

from wranglerpy.config.schema import Assets
from wranglerpy.runtime.headers import Headers, HeadersCopy
from wranglerpy.runtime.request_response import Response

# Where the platform's table differs from Python's (which varies by OS and version).
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".ico": "image/vnd.microsoft.icon"}

# Files wrangler never uploads as assets (its own control files).
NOT_ASSETS = (".assetsignore", "_headers", "_redirects", "_worker.js")


def _pattern(route: str) -> re.Pattern[str]:
    """A ``run_worker_first`` route pattern: ``*`` matches any run of characters."""
    return re.compile("^" + ".*".join(re.escape(part) for part in route.split("*")) + "$")


class AssetServer:
    def __init__(self, config: Assets) -> None:
        self.root = config.directory.resolve()
        self.not_found_handling = config.not_found_handling
        self.run_worker_first = config.run_worker_first
        rules = config.run_worker_first if isinstance(config.run_worker_first, tuple) else ()
        self._include = [_pattern(p) for p in rules if not p.startswith("!")]
        self._exclude = [_pattern(p[1:]) for p in rules if p.startswith("!")]
        ignore = self.root / ".assetsignore"
        lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.is_file() else []
        import pathspec  # here: only a worker with [assets] pays for it (warm.preload has it)

        self._ignored = pathspec.GitIgnoreSpec.from_lines(lines)

    def worker_first(self, path: str) -> bool:
        """Whether the worker answers ``path`` before the assets (``run_worker_first``)."""
        if isinstance(self.run_worker_first, bool):
            return self.run_worker_first
        if any(p.match(path) for p in self._exclude):
            return False
        return any(p.match(path) for p in self._include)

    def _file(self, path: str) -> Path | None:
        found = self._candidate(path)
        if found is None:
            return None
        relative = found.relative_to(self.root).as_posix()
        if found.name in NOT_ASSETS or self._ignored.match_file(relative):
            return None  # .assetsignore: not uploaded, so not served
        return found

    def _candidate(self, path: str) -> Path | None:
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
        content_type = (
            _TYPES.get(found.suffix.lower())
            or mimetypes.guess_type(found.name)[0]
            or "application/octet-stream"
        )
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
