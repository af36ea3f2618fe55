"""The services process never outlives its parent (services/README.md): it stops when its
stdin closes, which happens when the parent closes it or dies, without any signal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from wranglerpy.services.server import start_services
from wranglerpy.services.spec import ServicesSpec


async def test_closing_stdin_alone_stops_the_process(tmp_path: Path) -> None:
    handle = await start_services(ServicesSpec(tmp_path), 0)
    try:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{handle.openai_url}/models")).status_code == 200
        assert handle.proc.stdin is not None
        handle.proc.stdin.close()  # what the kernel does when the parent dies
        code = await asyncio.wait_for(handle.proc.wait(), 60)
        assert code == 0  # a clean exit of its own, not a signal
    finally:
        await handle.stop()
