"""``services.json`` and the edge's status carry where the services serve as typed fields:
readers compare ports and URLs, never the banner's wording."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wranglerpy.services.info import INFO_FILE, ServicesInfo, read_info, write_info

RUNNING = ServicesInfo(
    "running",
    port=45123,
    s3_url="http://127.0.0.1:45123",
    openai_url="http://127.0.0.1:45123/v1",
    dashboard_url="http://127.0.0.1:45123/_dashboard/",
    access_key_id="key",
)


@pytest.mark.parametrize(
    "info", [RUNNING, ServicesInfo("off"), ServicesInfo("failed", error="port 9 is taken")]
)
def test_the_info_round_trips_through_the_file(tmp_path: Path, info: ServicesInfo) -> None:
    write_info(tmp_path, info)
    assert read_info(tmp_path, os.getpid()) == info
    assert [p.name for p in tmp_path.iterdir()] == [INFO_FILE]  # no temporary file left


def test_another_process_file_is_not_this_ones(tmp_path: Path) -> None:
    write_info(tmp_path, RUNNING, pid=os.getpid() + 1)  # a previous daemon's
    assert read_info(tmp_path, os.getpid()) is None
    assert read_info(tmp_path / "missing", os.getpid()) is None


@pytest.mark.parametrize(
    "data",
    [
        {"lines": ["⎔ S3 API (local R2 buckets) on http://127.0.0.1:8991"]},  # the old banner file
        {"status": "sideways"},
        {"status": "running", "port": "8991"},
        [],
        "running",
    ],
)
def test_anything_else_in_the_file_reads_as_nothing(tmp_path: Path, data: object) -> None:
    payload = {"pid": os.getpid(), **data} if isinstance(data, dict) else data
    (tmp_path / INFO_FILE).write_text(json.dumps(payload))
    assert read_info(tmp_path, os.getpid()) is None


def test_the_banner_is_derived_from_the_fields() -> None:
    lines = RUNNING.banner_lines()
    assert any(RUNNING.s3_url in x and "access key id key" in x for x in lines)
    assert any(RUNNING.openai_url in x for x in lines)
    assert any(RUNNING.dashboard_url in x for x in lines)
    assert ServicesInfo("off").banner_lines() == []
