"""Resident memory of ``wranglerpy dev`` with the Workers AI model loaded: every process of the
session (supervisor, workers) plus the shared model host, with the models in each worker
(``WRANGLERPY_AI_HOST=process``, the old way) and in one host (``shared``, the default).

Two projects: examples/inference-ui (two workers with an ``[ai]`` binding; only the streaming
worker calls the model) and a three-worker project where every worker calls it.

    .venv/bin/python bench/ai_dev_memory.py          # needs `wranglerpy ai pull` first

RSS counts shared pages once per process, so the sum overstates what the machine spends a
little; the difference between the two modes is what matters.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAT = {"messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}]}

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        result = await self.env.AI.run(
            "@cf/meta/llama-3.1-8b-instruct",
            {"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16},
        )
        return Response.json(result)
"""


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def session_pids(root: int) -> list[int]:
    tree, out, todo = children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += tree.get(pid, [])
    return out


def host_pids(socket_dir: Path) -> list[int]:
    """Model hosts whose socket lives in ``socket_dir`` (this run's runtime folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"wranglerpy.ai.host" in cmd and any(str(socket_dir).encode() in c for c in cmd):
            found.append(int(entry.name))
    return found


def measure(project: Path, configs: list[str], mode: str, hits: list[tuple[str, str]]) -> dict:
    from wranglerpy.ai.client import default_socket_path
    from wranglerpy.testing import DevServer

    environ = {"WRANGLERPY_AI_HOST": mode, "WRANGLERPY_AI_HOST_IDLE": "2"}
    socket_dir = default_socket_path().parent
    before_hosts = set(host_pids(socket_dir))
    with DevServer(*configs, cwd=project, environ=environ, watch=False, timeout=120) as dev:
        for worker, path in hits:
            client = dev.client(worker, timeout=300)
            if path == "/stream/chat":
                reply = client.post(path, json=CHAT)
            else:
                reply = client.get(path)
            assert reply.status_code == 200, (worker, path, reply.text[:300])
        assert dev.process is not None
        pids = session_pids(dev.process.pid)
        # The host starts as a child of the first worker that needs it (in its own session).
        hosts = [p for p in host_pids(socket_dir) if p not in before_hosts]
        per = {pid: rss_kib(pid) for pid in set(pids) | set(hosts)}
        return {
            "mode": mode,
            "processes": len(per),
            "model_hosts": len(hosts),
            "total_mib": round(sum(per.values()) / 1024, 1),
            "largest_mib": sorted((round(v / 1024, 1) for v in per.values()), reverse=True)[:4],
        }


def three_workers(folder: Path) -> list[str]:
    configs = []
    for i in range(3):
        (folder / f"w{i}.py").write_text(WORKER)
        name = f"wrangler-{i}.toml"
        (folder / name).write_text(
            f'name = "ai-{i}"\nmain = "w{i}.py"\ncompatibility_flags = ["python_workers"]\n\n'
            '[ai]\nbinding = "AI"\n'
        )
        configs.append(name)
    return configs


def main() -> int:
    from wranglerpy.ai.cache import ModelCache
    from wranglerpy.ai.models import SMOLLM2

    if not ModelCache().is_cached(SMOLLM2):
        print("not cached; run `wranglerpy ai pull` first", file=sys.stderr)
        return 1
    report = {}
    with tempfile.TemporaryDirectory(prefix="wranglerpy-mem-") as tmp:
        example = Path(tmp) / "inference-ui"
        shutil.copytree(ROOT / "examples" / "inference-ui", example)
        trio = Path(tmp) / "trio"
        trio.mkdir()
        trio_configs = three_workers(trio)
        for mode in ("process", "shared"):
            report[f"inference-ui/{mode}"] = measure(
                example,
                ["wrangler.toml", "wrangler-streaming.toml"],
                mode,
                [("inference-ui-api", "/stream/chat")],
            )
            report[f"three-ai-workers/{mode}"] = measure(
                trio, trio_configs, mode, [(f"ai-{i}", "/") for i in range(3)]
            )
    for name, r in report.items():
        print(
            f"{name:28} {r['total_mib']:7.1f} MiB in {r['processes']} processes "
            f"({r['model_hosts']} model host); largest {r['largest_mib']}"
        )
    if "--json" in sys.argv:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
