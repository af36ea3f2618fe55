"""CPU cost of the subrequest proxy (``runtime/subrequests.py``, ``Counted``) per binding call:
one ``await env.KV.get("k")`` on a real local KV (SQLite), inside an invocation, raw and
through the proxy.

    .venv/bin/python bench/binding_call_overhead.py                  # 20000 calls, 9 rounds
    BASELINE=f2cecde .venv/bin/python bench/binding_call_overhead.py  # and that commit's proxy

With ``BASELINE`` (a git revision), that revision's ``runtime/binding_proxy.py`` and
``runtime/subrequests.py`` are loaded beside the current ones and measured in the same rounds,
interleaved, so both figures share the machine's load. Figures: median CPU µs per call over the
rounds, and the proxy's cost (the median minus the raw call's).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wranglerpy.bindings.kv import KVNamespaceBinding  # noqa: E402
from wranglerpy.config.limits import Limits  # noqa: E402
from wranglerpy.runtime import limits, subrequests  # noqa: E402

CALLS = int(os.environ.get("CALLS", "20000"))
ROUNDS = int(os.environ.get("ROUNDS", "9"))
BASELINE = os.environ.get("BASELINE")


def load_baseline(revision: str) -> ModuleType:
    """``subrequests`` as it was at ``revision``, over that revision's ``binding_proxy``."""
    folder = Path(tempfile.mkdtemp(prefix="proxy-baseline-"))
    sys.path.insert(0, str(folder))
    for name in ("binding_proxy", "subrequests"):
        source = subprocess.run(
            ["git", "show", f"{revision}:wranglerpy/runtime/{name}.py"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        source = source.replace("wranglerpy.runtime.binding_proxy", "binding_proxy_baseline")
        (folder / f"{name}_baseline.py").write_text(source)
    spec = importlib.util.spec_from_file_location(
        "subrequests_baseline", folder / "subrequests_baseline.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["subrequests_baseline"] = module
    spec.loader.exec_module(module)
    return module


async def handler(kv: Any) -> Any:
    return await kv.get("k")


async def round_(kv: Any) -> float:
    limits.begin(Limits(subrequests=10**9))  # counted, never over the limit
    started = time.process_time()
    for _ in range(CALLS):
        await handler(kv)
    return (time.process_time() - started) / CALLS * 1e6


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="proxy-bench-"))
    kv = KVNamespaceBinding(folder / "kv.sqlite")
    await kv.put("k", "v")
    bindings: dict[str, Any] = {"raw": kv, "proxied": subrequests.Counted(kv)}
    if BASELINE:
        bindings[f"proxied at {BASELINE}"] = load_baseline(BASELINE).Counted(kv)
    figures: dict[str, list[float]] = {name: [] for name in bindings}
    for _ in range(ROUNDS):
        for name, binding in bindings.items():
            figures[name].append(await asyncio.create_task(round_(binding)))
    print(f"KV get, {CALLS} calls a round, median of {ROUNDS} rounds (CPU µs per call)")
    raw = statistics.median(figures["raw"])
    for name, values in figures.items():
        extra = "" if name == "raw" else f"   (proxy +{statistics.median(values) - raw:.2f})"
        print(f"{name + ':':24s}{statistics.median(values):8.2f}{extra}")


if __name__ == "__main__":
    asyncio.run(main())
