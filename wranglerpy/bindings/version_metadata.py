"""``[version_metadata]``: ``env.<binding>`` is ``{"id", "tag", "timestamp"}``.

In ``dev`` these are what ``wrangler dev`` gives (miniflare ``plugins/version-metadata``): a
fresh random UUID, an empty tag and the start time, new for every start of the worker. The
local edge passes the deployed version's through the worker spec (``VersionInfo``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from wranglerpy.jsobject import JSObject


@dataclass(frozen=True)
class VersionInfo:
    """The version a worker process runs: its id, tag (may be empty) and ISO timestamp."""

    id: str
    tag: str
    timestamp: str


def dev_version() -> VersionInfo:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return VersionInfo(str(uuid.uuid4()), "", now)


def version_metadata(version: VersionInfo | None) -> JSObject:
    info = version or dev_version()
    return JSObject({"id": info.id, "tag": info.tag, "timestamp": info.timestamp})
