"""Where local state lives when the user does not say."""

from __future__ import annotations

from pathlib import Path

STATE_DIRNAME = ".wranglerpy"


def default_persist_dir(project_root: Path) -> Path:
    """``.wranglerpy/state/`` beside the config, as wrangler keeps ``.wrangler/state/``."""
    return project_root / STATE_DIRNAME / "state"
