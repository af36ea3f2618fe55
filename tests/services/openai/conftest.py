"""The tiny test models of tests/ai behind the real AI binding, served by the OpenAI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest

from tests.ai.conftest import ai, engine, tiny_embedder_dir, tiny_gguf  # noqa: F401 - fixtures
from wranglerpy.services.openai import OpenAIApp


@pytest.fixture
async def client(ai: Any) -> AsyncIterator[openai.AsyncOpenAI]:  # noqa: F811 - the fixture
    transport = httpx.ASGITransport(app=OpenAIApp(ai=ai))
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as http:
        yield openai.AsyncOpenAI(
            base_url="http://local/v1",
            api_key="any",
            http_client=http,  # type: ignore[arg-type]
            max_retries=0,
        )
