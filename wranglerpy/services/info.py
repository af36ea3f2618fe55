"""Where the services beside the edge serve, as typed fields: what ``services.json`` keeps and
the edge's ``status`` answer carries, so ``edge start``/``edge status`` read ports and URLs,
never banner text. Import-light on purpose: the CLI and the control messages read it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

INFO_FILE = "services.json"

ServicesStatus = Literal["running", "off", "failed"]


@dataclass(frozen=True)
class ServicesInfo:
    """The outcome of starting the services: ``running`` (then port and URLs are set), ``off``
    (``--no-services``) or ``failed`` (``error`` says why; the edge runs on without them)."""

    status: ServicesStatus
    port: int | None = None
    s3_url: str = ""
    openai_url: str = ""
    dashboard_url: str = ""
    access_key_id: str = ""
    error: str = ""

    @property
    def running(self) -> bool:
        return self.status == "running"

    def banner_lines(self) -> list[str]:
        """The lines ``dev`` and the edge print about them ([] unless running)."""
        if not self.running:
            return []
        return [
            f"⎔ Dashboard (workers, live requests and traces, logs, local state) on "
            f"{self.dashboard_url}",
            f"⎔ S3 API (local R2 buckets) on {self.s3_url}  "
            f"(access key id {self.access_key_id}, region auto)",
            f"⎔ OpenAI-compatible API (local Workers AI models) on {self.openai_url}",
        ]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: Any) -> ServicesInfo | None:
        """The info in ``data``; None for anything else (a file from an older version)."""
        if not isinstance(data, dict) or data.get("status") not in ("running", "off", "failed"):
            return None
        known = {f.name for f in fields(ServicesInfo)}
        try:
            info = ServicesInfo(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None
        port = info.port
        if port is not None and not isinstance(port, int):
            return None
        return info


def write_info(folder: Path, info: ServicesInfo, pid: int | None = None) -> None:
    """Keep ``info`` in ``folder/services.json`` as process ``pid``'s (default: this one), in
    one step: a reader never sees half a file."""
    data = {"pid": os.getpid() if pid is None else pid, **info.to_json()}
    tmp = folder / f".{INFO_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, folder / INFO_FILE)


def read_info(folder: Path, pid: int) -> ServicesInfo | None:
    """What process ``pid`` kept with :func:`write_info` (None: nothing yet, or another's)."""
    try:
        data = json.loads((folder / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("pid") != pid:
        return None
    return ServicesInfo.from_json(data)
