"""An OpenAI-compatible API (``/v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings``,
``/v1/models``) over the local Workers AI models, through the AI binding's ``run``."""

from __future__ import annotations

from wranglerpy.services.openai.app import OpenAIApp

__all__ = ["OpenAIApp"]
