"""Unit tests of the Inference UI example's logic (examples/inference-ui/src).

The workers' code imports ``workers`` (the runtime's shim) and its own top-level packages,
as it does inside a worker process; both are put on sys.path here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import wranglerpy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inference-ui"
SHIM = Path(wranglerpy.__file__).resolve().parent / "runtime" / "shim"
for folder in (EXAMPLE / "src", SHIM):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from iui_fakes import FakeAI, FakeEnv, make_env  # noqa: E402


@pytest.fixture
def env(tmp_path: Path) -> FakeEnv:
    return make_env(tmp_path / "db.sqlite3", EXAMPLE / "migrations")


@pytest.fixture
def ai(env: FakeEnv) -> FakeAI:
    assert isinstance(env.AI, FakeAI)
    return env.AI
