"""Unit tests of the Inference UI example's logic (examples/inference-ui/src).

The workers' code imports ``workers`` (the runtime's shim) and its own top-level packages,
as it does inside a worker process; both are put on sys.path here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wranglerpy

ROOT = Path(__file__).resolve().parents[2]  # for the shared test helpers (tests.waits)
EXAMPLE = ROOT / "examples" / "inference-ui"
SHIM = Path(wranglerpy.__file__).resolve().parent / "runtime" / "shim"
for folder in (ROOT, EXAMPLE / "src", SHIM):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from iui_fakes import FakeAI, FakeD1, FakeEnv, RealD1, make_env  # noqa: E402


@pytest.fixture(params=["sqlite", "d1"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeEnv]:
    """Bindings for one test; DB is a thin SQLite fake, then the real local D1 binding."""
    migrations = EXAMPLE / "migrations"
    if request.param == "d1":
        db: Any = RealD1(tmp_path / "state", migrations)
    else:
        db = FakeD1(tmp_path / "db.sqlite3", migrations)
    yield make_env(db)
    db.close()


@pytest.fixture
def ai(env: FakeEnv) -> FakeAI:
    assert isinstance(env.AI, FakeAI)
    return env.AI
