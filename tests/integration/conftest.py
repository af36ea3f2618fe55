import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def pair_project(tmp_path: Path) -> Path:
    """A copy of the two-worker fixture project that a test may edit."""
    target = tmp_path / "pair"
    shutil.copytree(FIXTURES / "pair", target)
    return target
