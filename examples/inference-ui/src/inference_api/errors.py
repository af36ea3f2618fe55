"""Errors that become JSON answers: ``ApiError(status, message, **details)``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the API refuses; becomes ``{"error": message, **details}`` with ``status``."""

    def __init__(
        self, status: int, message: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.details}
