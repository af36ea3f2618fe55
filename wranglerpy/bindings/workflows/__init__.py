"""Cloudflare Workflows, locally.

State: ``<persist_dir>/workflows/workflows.sqlite`` (instances, completed steps, events),
shared by every worker and dev session using the persist dir. ``create`` gives the object
behind ``env.<WORKFLOW>``; ``runner.start_engines`` runs the engines of the workflows whose
class a worker defines, in that worker's process.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings.workflows.binding import WorkflowBinding, WorkflowInstance
from wranglerpy.bindings.workflows.errors import NonRetryableError, WorkflowError
from wranglerpy.bindings.workflows.store import WorkflowStore, store_path
from wranglerpy.config.workflows import Workflow

__all__ = [
    "NonRetryableError",
    "WorkflowBinding",
    "WorkflowError",
    "WorkflowInstance",
    "WorkflowStore",
    "create",
    "open_store",
]


def open_store(persist_dir: Path) -> WorkflowStore:
    return WorkflowStore(store_path(persist_dir))


def create(config: Workflow, persist_dir: Path) -> WorkflowBinding:
    return WorkflowBinding(open_store(persist_dir), config.name)
