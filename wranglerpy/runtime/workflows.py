"""Workflow exceptions of the SDK (workers-py ``src/workers/workflows.py``)."""


class NonRetryableError(Exception):
    """Raised in a workflow step to fail it without retrying."""
