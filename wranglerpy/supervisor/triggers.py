"""Runs ``[triggers] crons``: at each matching minute, the worker's ``scheduled`` handler."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from urllib.parse import quote

from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime import protocol
from wranglerpy.runtime.binding_client import UnixFrameTransport
from wranglerpy.runtime.messages import Request
from wranglerpy.supervisor.cron import Cron
from wranglerpy.supervisor.supervisor import Supervisor


async def run_cron_triggers(supervisor: Supervisor, hub: LogHub) -> None:
    """One task per (worker, cron); cancelled when the session stops."""
    tasks = []
    for worker in supervisor.workers.values():
        for expression in worker.config.triggers.crons:
            cron = Cron.parse(expression)
            tasks.append(asyncio.ensure_future(_loop(supervisor, worker.name, cron, hub)))
    if not tasks:
        return
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def _loop(supervisor: Supervisor, name: str, cron: Cron, hub: LogHub) -> None:
    while True:
        now = datetime.now(timezone.utc)
        due = cron.next_after(now)
        await asyncio.sleep(max(0.0, (due - now).total_seconds()))
        await fire(supervisor, name, cron.expression, due.timestamp() * 1000, hub)


async def fire(
    supervisor: Supervisor, name: str, cron: str, scheduled_ms: float, hub: LogHub
) -> None:
    worker = supervisor.workers.get(name)
    if worker is None:
        return
    transport = UnixFrameTransport(str(worker.uds_path))
    request = Request(
        f"{worker.url}/cdn-cgi/local/scheduled?cron={quote(cron)}&time={scheduled_ms:.0f}"
    )
    try:
        response = await transport.send(request, {protocol.BINDING_TOKEN_HEADER: worker.token})
        await response.bytes()
    except ConnectionError as exc:
        hub.system(f"✘ cron {cron!r} could not reach {name}: {exc}", worker=name, level="error")
    finally:
        await transport.aclose()
