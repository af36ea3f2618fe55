"""``[build] command``: run before a worker starts and on every reload."""

from __future__ import annotations

import asyncio
import time

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.logs.hub import LogHub


async def run_build(config: WorkerConfig, hub: LogHub) -> bool:
    """Run the build command in a shell; stream its output; True when it succeeded."""
    command = config.build.command
    if not command:
        return True
    cwd = config.build.cwd or config.root
    hub.system(f"Running custom build: {command}", worker=config.name)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_shell(
        command, cwd=str(cwd), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert proc.stdout is not None
    async for line in proc.stdout:
        hub.publish(
            {
                "type": "log",
                "worker": config.name,
                "level": "log",
                "message": line.decode(errors="replace").rstrip("\n"),
            }
        )
    code = await proc.wait()
    if code != 0:
        hub.system(
            f"✘ Build failed (exit code {code}): {command}", worker=config.name, level="error"
        )
        return False
    hub.system(
        f"✨ Built successfully ({(time.perf_counter() - started) * 1000:.0f} ms)",
        worker=config.name,
    )
    return True
