"""Workers Analytics Engine, locally: ``create(config, persist_dir)`` gives ``env.<AE>``.

State: ``<persist_dir>/analytics_engine/<dataset>/points.sqlite``, one table ``points`` with
``timestamp, _sample_interval, index1, blob1..20, double1..20``. ``wranglerpy analytics query``
answers the SQL API's subset over it (see ``sql/``).
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.bindings.analytics_engine.binding import (
    AnalyticsEngineBinding,
    AnalyticsEngineError,
)
from wranglerpy.config.schema import AnalyticsEngineDataset

__all__ = [
    "DB_FILE",
    "AnalyticsEngineBinding",
    "AnalyticsEngineError",
    "create",
    "dataset_path",
]

DB_FILE = "points.sqlite"


def dataset_path(persist_dir: Path, dataset: str) -> Path:
    """Where ``dataset`` is stored under ``persist_dir``."""
    return state_dir(persist_dir, "analytics_engine", dataset) / DB_FILE


def create(config: AnalyticsEngineDataset, persist_dir: Path) -> AnalyticsEngineBinding:
    return AnalyticsEngineBinding(dataset_path(persist_dir, config.dataset), dataset=config.dataset)
