"""One exception tree for everything a user can get wrong or run into.

Every error carries a message meant for a person; the CLI prints it without a traceback.
"""

from __future__ import annotations


class WranglerError(Exception):
    """Base of every user-facing error. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(WranglerError):
    """A config file is missing, unreadable, malformed or inconsistent."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = ""
        if file:
            where = file
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
        parts = [p for p in (where, f"[{key}]" if key else "") if p]
        full = f"{' '.join(parts)}: {message}" if parts else message
        super().__init__(full)
        self.file = file
        self.key = key
        self.line = line
        self.column = column
        self.reason = message


class UsageError(WranglerError):
    """A command was called with arguments that do not fit together."""

    exit_code = 2


class BindingError(WranglerError):
    """A binding was used with bad input (an invalid key, an oversized value, ...)."""


class StateError(WranglerError):
    """Local state (KV, D1, R2, Analytics Engine) could not be read or written."""


class ServiceBindingError(WranglerError):
    """A service binding call could not reach its target worker."""


class AIError(WranglerError):
    """The local Workers AI binding failed (unknown model, bad input, model not pulled)."""


class DeployError(WranglerError):
    """A deploy, rollback or edge operation could not be carried out."""
