"""A real worker process started by ``WorkerProcess`` (issue 18, finding 5: start-up framing)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket

from wranglerpy.config.load import load_worker
from wranglerpy.host.handoff import HANDOVER_SIGNAL, HandoffError, recv_load
from wranglerpy.host.process import WorkerProcess
from wranglerpy.host.sockets import bind_unix
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.runtime.warm import ON_DEMAND_MODULES
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import FetchHead

WORKER = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(str(sum(len(getattr(self.env, f"V{i}")) for i in range(12))))
"""


async def test_a_config_of_twelve_5kb_vars_starts(tmp_path):
    """12 vars of 5 KB are legal on Cloudflare (workers-sdk wrangler: vars limit is the
    script's 64 KB of environment); the spec travels framed, not in one socket read."""
    big = "x" * 5000
    (tmp_path / "worker.py").write_text(WORKER)
    lines = ['name = "big"', 'main = "worker.py"', 'compatibility_date = "2025-09-01"', "[vars]"]
    lines += [f'V{i} = "{big}"' for i in range(12)]
    (tmp_path / "wrangler.toml").write_text("\n".join(lines) + "\n")
    config = load_worker(tmp_path / "wrangler.toml")
    spec = WorkerSpec(config=config, persist_dir=tmp_path / "state", registry_dir=tmp_path / "r")
    events: list[dict] = []
    process = WorkerProcess(events.append, http=False)
    sock, path = bind_unix("big")
    try:
        await process.spawn()
        ready = await process.load(spec, [sock.fileno()])
        assert ready["type"] == "ready"
        client = FrameClient(str(path))
        answer = await client.fetch(FetchHead(method="GET", url="http://big/"))
        assert answer.body == b"60000"
        client.close()
    finally:
        await process.stop(grace=5)
        sock.close()
        path.unlink(missing_ok=True)


def test_a_start_up_message_cut_inside_is_an_error_not_a_short_spec():
    host, child = socket.socketpair()
    with host, child:
        host.sendall((100).to_bytes(8, "big") + json.dumps({"x": 1}).encode())
        host.shutdown(socket.SHUT_WR)
        try:
            recv_load(child)
        except HandoffError as exc:
            assert "ended after" in str(exc)
        else:
            raise AssertionError("a cut message was taken as whole")


def test_a_closed_spare_reads_none():
    host, child = socket.socketpair()
    with child:
        host.close()
        assert recv_load(child) is None


async def test_a_large_message_arrives_whole_with_its_descriptors():
    host, child = socket.socketpair()
    host.setblocking(False)
    extra, _ = socket.socketpair()
    from wranglerpy.host.handoff import send_load

    payload = b"y" * (3 << 20)
    loop = asyncio.get_running_loop()
    received = loop.run_in_executor(None, recv_load, child)
    await send_load(host, payload, [extra.fileno()])
    result = await received
    assert result is not None and result[0] == payload and len(result[1]) == 1
    for fd in result[1]:
        socket.socket(fileno=fd).close()
    for s in (host, child, extra, _):
        s.close()


async def test_ready_lists_the_files_the_worker_imports_and_no_others(tmp_path):
    """The host reloads a worker only when a file it imports changes: the child reports the
    project's imported files (only those its own import added, not the runtime's)."""
    (tmp_path / "helper_for_ready.py").write_text("GREETING = 'hi'\n")
    (tmp_path / "unused_for_ready.py").write_text("X = 1\n")
    (tmp_path / "worker.py").write_text(
        "from workers import WorkerEntrypoint, Response\n"
        "from helper_for_ready import GREETING\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        return Response(GREETING)\n"
    )
    (tmp_path / "wrangler.toml").write_text(
        'name = "mods"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
    )
    config = load_worker(tmp_path / "wrangler.toml")
    spec = WorkerSpec(config=config, persist_dir=tmp_path / "state", registry_dir=tmp_path / "r")
    process = WorkerProcess(lambda _event: None, http=False)
    sock, path = bind_unix("mods")
    try:
        await process.spawn()
        ready = await process.load(spec, [sock.fileno()])
        root = tmp_path.resolve()
        assert ready["modules"] == [str(root / "helper_for_ready.py"), str(root / "worker.py")]
    finally:
        await process.stop(grace=5)
        sock.close()
        path.unlink(missing_ok=True)


async def _start(tmp_path, source: str, events: list[dict] | None = None):
    """A real worker process serving ``source`` as its main module, frames only."""
    (tmp_path / "worker.py").write_text(source)
    (tmp_path / "wrangler.toml").write_text(
        'name = "proc"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
    )
    config = load_worker(tmp_path / "wrangler.toml")
    spec = WorkerSpec(config=config, persist_dir=tmp_path / "state", registry_dir=tmp_path / "r")
    process = WorkerProcess((events.append if events is not None else lambda _e: None), http=False)
    sock, path = bind_unix("proc")
    await process.spawn()
    await process.load(spec, [sock.fileno()])
    return process, sock, path


# SIGTERM blocked at import: the worker (and what it starts, which inherits the mask) can
# only be stopped by another signal. The grandchild shows what the process group receives.
STUBBORN = """
import signal, subprocess, sys
from pathlib import Path
from workers import WorkerEntrypoint, Response

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
GRANDCHILD = subprocess.Popen(["sleep", "600"])
Path(__file__).with_name("grandchild.pid").write_text(str(GRANDCHILD.pid))

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("ok")
"""


async def _exited(pid: int) -> None:
    """Wait (on the kernel's pidfd, no polling) until ``pid`` has exited."""
    fd = os.pidfd_open(pid)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(fd, done.set_result, None)
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def test_stop_kills_the_process_group_after_the_grace(tmp_path):
    """host/README.md: stop is SIGTERM to the process group, SIGKILL after the grace."""
    process, sock, path = await _start(tmp_path, STUBBORN)
    try:
        grandchild = int((tmp_path / "grandchild.pid").read_text())
        grandchild_gone = asyncio.ensure_future(_exited(grandchild))
        await process.stop(grace=0.5)
        assert process.proc is not None and process.proc.returncode == -signal.SIGKILL
        await asyncio.wait_for(grandchild_gone, 60)  # SIGKILL reached the whole group
    finally:
        sock.close()
        path.unlink(missing_ok=True)


async def test_a_handover_stop_sends_the_handover_signal_and_the_worker_exits_cleanly(tmp_path):
    """host/README.md: a reload's ``handover`` sends HANDOVER_SIGNAL (SIGUSR1) instead of
    SIGTERM; with SIGTERM blocked, only that signal can end this worker before the grace."""
    assert HANDOVER_SIGNAL == signal.SIGUSR1
    process, sock, path = await _start(tmp_path, STUBBORN)
    try:
        await process.stop(grace=30, handover=True)
        assert process.proc is not None and process.proc.returncode == 0
    finally:
        grandchild = int((tmp_path / "grandchild.pid").read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(grandchild, signal.SIGKILL)
        sock.close()
        path.unlink(missing_ok=True)


CHATTY = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        for n in range(3):
            print(str(n) * 60000)
        return Response("said")
"""


async def test_an_event_line_over_64_kib_arrives_whole(tmp_path):
    """host/README.md: event lines up to 16 MiB (issue 10: a copy of this reader kept
    asyncio's 64 KiB default and dropped such events). A request event with three 60 KB log
    lines is one 180 KB line."""
    events: list[dict] = []
    process, sock, path = await _start(tmp_path, CHATTY, events)
    client = FrameClient(str(path))
    try:
        answer = await client.fetch(FetchHead(method="GET", url="http://proc/"))
        assert answer.body == b"said"
    finally:
        client.close()
        await process.stop(grace=5)  # the readers drain what the worker wrote before it exits
        sock.close()
        path.unlink(missing_ok=True)
    (request,) = [e for e in events if e.get("type") == "request"]
    assert [entry["message"] for entry in request["logs"]] == [[str(n) * 60000] for n in range(3)]


# Reports which of the runtime's on-demand modules (warm.ON_DEMAND_MODULES) the process has.
ON_DEMAND_WORKER = """
import sys
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(",".join(m for m in {modules!r} if m in sys.modules))
"""

# `from js import HTMLRewriter` at top level, as Cloudflare's 11-opengraph example does.
REWRITER_WORKER = """
from js import HTMLRewriter
from pyodide.ffi import create_proxy
from workers import WorkerEntrypoint, Response

class Title:
    def element(self, element):
        element.setInnerContent("rewritten")

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        page = Response("<h1>original</h1>", headers={"content-type": "text/html"})
        rewriter = HTMLRewriter.new()
        rewriter.on("h1", create_proxy(Title()))
        return rewriter.transform(page.js_object)
"""


async def _fetch_from(tmp_path, source: str, *, preload: bool) -> tuple[dict, bytes]:
    """Start ``source`` in a real process spawned with ``preload``; its ready event and the
    body of one fetch."""
    (tmp_path / "worker.py").write_text(source)
    (tmp_path / "wrangler.toml").write_text(
        'name = "lazy"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
    )
    config = load_worker(tmp_path / "wrangler.toml")
    spec = WorkerSpec(config=config, persist_dir=tmp_path / "state", registry_dir=tmp_path / "r")
    events: list[dict] = []
    process = WorkerProcess(events.append, http=False)
    sock, path = bind_unix("lazy")
    client = FrameClient(str(path))
    try:
        await process.spawn(preload=preload)
        ready = await process.load(spec, [sock.fileno()])
        answer = await client.fetch(FetchHead(method="GET", url="http://lazy/"))
        body = answer.body if answer.body is not None else await answer.read_all()
        assert answer.head.status == 200, (body, events)
        return ready, body
    finally:
        client.close()
        await process.stop(grace=5)
        sock.close()
        path.unlink(missing_ok=True)


async def test_a_process_loaded_at_once_imports_only_what_its_worker_uses(tmp_path):
    """No Durable Objects, no [assets], no HTMLRewriter: none of their modules is imported,
    and the runtime the load imported is not reported as the worker's own files."""
    source = ON_DEMAND_WORKER.format(modules=ON_DEMAND_MODULES)
    ready, body = await _fetch_from(tmp_path, source, preload=False)
    assert body == b""
    assert ready["modules"] == [str(tmp_path.resolve() / "worker.py")]


async def test_a_spare_has_the_on_demand_modules_before_its_load(tmp_path):
    source = ON_DEMAND_WORKER.format(modules=ON_DEMAND_MODULES)
    _, body = await _fetch_from(tmp_path, source, preload=True)
    assert body.decode().split(",") == list(ON_DEMAND_MODULES)


async def test_htmlrewriter_from_js_works_in_a_process_loaded_at_once(tmp_path):
    """Its import happens inside the worker's top-level import (where entropy is blocked)."""
    _, body = await _fetch_from(tmp_path, REWRITER_WORKER, preload=False)
    assert body == b"<h1>rewritten</h1>"


async def test_a_process_loaded_at_once_uses_the_runtimes_packages_not_the_projects(tmp_path):
    """The project's own packages (python_modules, first on sys.path for its code) do not
    replace what the runtime imports for it: here a vendored `pathspec` that cannot import."""
    vendored = tmp_path / "python_modules" / "pathspec"
    vendored.mkdir(parents=True)
    (vendored / "__init__.py").write_text("raise ImportError('the project vendored this one')\n")
    (tmp_path / "public").mkdir()
    (tmp_path / "worker.py").write_text(
        "from workers import WorkerEntrypoint, Response\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        return Response('worker')\n"
    )
    (tmp_path / "wrangler.toml").write_text(
        'name = "vend"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
        '[assets]\ndirectory = "public"\n'
    )
    config = load_worker(tmp_path / "wrangler.toml")
    spec = WorkerSpec(
        config=config,
        persist_dir=tmp_path / "state",
        registry_dir=tmp_path / "r",
        python_path=(str(tmp_path / "python_modules"),),
    )
    events: list[dict] = []
    process = WorkerProcess(events.append, http=False)
    sock, path = bind_unix("vend")
    client = FrameClient(str(path))
    try:
        await process.spawn(preload=False)
        await process.load(spec, [sock.fileno()])
        answer = await client.fetch(FetchHead(method="GET", url="http://vend/page"))
        body = answer.body if answer.body is not None else await answer.read_all()
        assert [e for e in events if e.get("type") == "load_error"] == []
        assert (answer.head.status, body) == (200, b"worker")
    finally:
        client.close()
        await process.stop(grace=5)
        sock.close()
        path.unlink(missing_ok=True)
