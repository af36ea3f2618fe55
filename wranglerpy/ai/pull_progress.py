"""Progress of a model pull as log lines, for pulls nobody watches with a progress bar (the
lazy pull on a worker's first AI call in ``dev``): one line per step and per quarter of the
bytes, so the dev log shows the pull moving without flooding it."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("wranglerpy.ai")

STEPS_PER_FILE = 4


def _mb(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def log_progress(model: str, logger: logging.Logger = log) -> Callable[[str, int, int], None]:
    """A ``ModelCache.pull`` reporter: ``(step, bytes done, bytes total)`` → INFO lines."""
    current = [""]  # the step being reported
    shown = [-1]  # the last quarter logged for it

    def report(step: str, done: int, total: int) -> None:
        if step in ("cached", "done"):
            if step == "done":
                logger.info("Workers AI: %s is ready", model)
            return
        if step != current[0]:
            current[0], shown[0] = step, -1
            if not total:
                logger.info("Workers AI: pulling %s: %s", model, step)
                return
        if not total:
            return
        quarter = min(STEPS_PER_FILE, done * STEPS_PER_FILE // total)
        if quarter > shown[0]:
            shown[0] = quarter
            logger.info(
                "Workers AI: pulling %s: %s %s of %s (%d%%)",
                model, step, _mb(done), _mb(total), done * 100 // total,
            )  # fmt: skip

    return report
