"""The errors workflow code sees, named as Cloudflare names them.

``NonRetryableError`` is the class ``workers.workflows`` exports (workerd
src/pyodide/internal/workers-api/src/workers/workflows.py); the engine recognises it by name,
as workers-sdk packages/workflows-shared/src/context.ts does, so a NonRetryableError from any
module stops the retries.
"""

from __future__ import annotations


class NonRetryableError(Exception):
    """Raise from a step to fail it at once, without retries."""


class WorkflowError(Exception):
    """A misuse of the Workflow binding (an invalid id, an unknown instance, ...)."""


class WorkflowTimeoutError(Exception):
    """A step attempt or a ``wait_for_event`` ran out of time."""


class WorkflowFatalError(Exception):
    """The workflow cannot go on (an invalid step name or config, a step limit reached)."""


class StepError(Exception):
    """A step's stored failure, raised again when the workflow is replayed after a restart.

    ``name`` is the original exception's class name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class Interrupted(BaseException):  # noqa: N818 - control flow, not an error
    """Unwinds ``run`` when the instance is paused, terminated or restarted, or its lease is
    lost. A BaseException so a user's ``except Exception`` cannot swallow it."""


def is_non_retryable(exc: BaseException) -> bool:
    return type(exc).__name__ == "NonRetryableError" or str(exc).startswith("NonRetryableError")


def error_shape(exc: BaseException) -> dict[str, str]:
    from wranglerpy.runtime.ffi import JsException

    if isinstance(exc, JsException):  # a JS error keeps its own name (``Error``, ``TypeError``)
        return {"name": exc.name, "message": exc.message}
    name = exc.name if isinstance(exc, StepError) else type(exc).__name__
    return {"name": name, "message": str(exc)}
