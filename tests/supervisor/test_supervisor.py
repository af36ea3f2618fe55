"""dev's Supervisor through a fake process factory: order, cycles, reloads, crash restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.host.fakes import FakeFactory, settle
from wranglerpy.config.schema import ServiceBinding, WorkerConfig
from wranglerpy.host.pool import Backoff, StartFailed
from wranglerpy.logs.hub import LogHub
from wranglerpy.supervisor.supervisor import Supervisor, SupervisorOptions, start_waves


def worker(root: Path, name: str, *targets: str) -> WorkerConfig:
    folder = root / name
    folder.mkdir(exist_ok=True)
    return WorkerConfig(
        name=name,
        config_path=folder / "wrangler.toml",
        main=None,
        services=tuple(ServiceBinding(f"S{i}", t) for i, t in enumerate(targets)),
    )


def names(waves: list[list[WorkerConfig]]) -> list[list[str]]:
    return [[w.name for w in wave] for wave in waves]


def test_binding_targets_start_in_an_earlier_wave(tmp_path):
    api = worker(tmp_path, "api", "streaming", "auth")
    streaming = worker(tmp_path, "streaming", "auth")
    auth = worker(tmp_path, "auth")
    other = worker(tmp_path, "other", "elsewhere")  # a target outside this dev: no constraint
    waves = start_waves([api, streaming, auth, other])
    assert names(waves) == [["auth", "other"], ["streaming"], ["api"]]


def test_workers_that_bind_each_other_both_start(tmp_path):
    """Mutual service bindings run under `wrangler dev` (each worker is its own process there
    and bindings resolve when called), so dev starts both instead of refusing the cycle."""
    a = worker(tmp_path, "a", "b")
    b = worker(tmp_path, "b", "a")
    c = worker(tmp_path, "c", "a")
    assert names(start_waves([a, b, c])) == [["b"], ["a"], ["c"]]


@pytest.fixture
async def supervised(tmp_path):
    factory = FakeFactory()
    configs = [worker(tmp_path, "api", "streaming"), worker(tmp_path, "streaming")]
    options = SupervisorOptions(
        persist_dir=tmp_path / "state",
        registry_dir=tmp_path / "registry",
        run_build=False,
        apply_migrations=False,
    )
    supervisor = Supervisor(
        configs,
        {"api": 0, "streaming": 0},
        LogHub(),
        options,
        process_factory=factory,
        backoff=Backoff(first=0.0),
    )
    await supervisor.start()
    yield supervisor, factory
    await supervisor.shutdown()


async def test_start_loads_targets_first_and_registers_every_worker(supervised):
    supervisor, factory = supervised
    assert factory.loads() == ["streaming", "api"]
    entries = {e.name: e for e in supervisor.registry.entries()}
    assert set(entries) == {"api", "streaming"}
    assert entries["api"].socket == str(supervisor.workers["api"].path)
    # Each worker process gets its frame socket first, then its public HTTP socket.
    api = supervisor.workers["api"]
    assert api.pool.processes[0].fds == [api.sock.fileno(), api.tcp.fileno()]


async def test_reload_replaces_only_that_worker(supervised):
    supervisor, factory = supervised
    old = supervisor.workers["api"].pool.processes[0]
    await supervisor.reload("api", "src/api.py changed")
    await settle()
    assert old.stopping
    assert supervisor.workers["api"].pool.processes[0] is not old
    assert factory.loads() == ["streaming", "api", "api"]
    assert not supervisor.workers["streaming"].pool.processes[0].stopping


async def test_a_crashed_worker_is_restarted(supervised):
    supervisor, factory = supervised
    supervisor.workers["streaming"].pool.processes[0].crash()
    await settle(40)
    assert factory.loads() == ["streaming", "api", "streaming"]
    assert supervisor.workers["streaming"].pool.alive()


async def test_shutdown_stops_everything_and_unregisters(supervised, tmp_path):
    supervisor, factory = supervised
    await supervisor.shutdown()
    assert all(p.stopping for p in factory.made)
    assert supervisor.registry.entries() == []


async def test_a_busy_port_names_the_worker_and_how_to_move_it(tmp_path):
    import socket

    from wranglerpy.errors import UsageError

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    configs = [worker(tmp_path, "api"), worker(tmp_path, "streaming")]
    options = SupervisorOptions(registry_dir=tmp_path / "registry", run_build=False)
    supervisor = Supervisor(
        configs, {"api": 0, "streaming": port}, LogHub(), options, process_factory=FakeFactory()
    )
    try:
        with pytest.raises(UsageError) as info:
            await supervisor.start()
    finally:
        busy.close()
        await supervisor.shutdown()
    message = str(info.value)
    assert message.startswith(f'Worker "streaming": address 127.0.0.1:{port} is already in use')
    assert "--worker-port streaming=PORT" in message and "--port" not in message.split("Move")[1]


async def test_a_second_supervisor_of_a_claimed_name_holds_nothing(supervised, tmp_path):
    """The registry refuses a second owner of "api"; "solo" (claimed first) is let go again."""
    from wranglerpy.errors import UsageError

    running, _factory = supervised
    configs = [worker(tmp_path, "solo"), worker(tmp_path, "api")]
    options = SupervisorOptions(registry_dir=tmp_path / "registry", run_build=False)
    second = Supervisor(configs, {"solo": 0, "api": 0}, LogHub(), options)
    with pytest.raises(UsageError, match=f'Worker "api" is already running .*pid {os.getpid()}'):
        second.claim()
    os.close(second.registry.claim("solo"))  # nothing held by the refused session
    await running.shutdown()
    second.claim()  # the owner is gone: the name is free
    await second.shutdown()


class RecordingSupervisor(Supervisor):
    """Records how many processes were spawned when the start's preparation ran."""

    spawned_at_prepare: int | None = None

    async def _prepare(self) -> None:
        assert isinstance(self.spares.factory, FakeFactory)
        self.spawned_at_prepare = len(self.spares.factory.made)
        await super()._prepare()


async def test_processes_spawn_before_dependencies_migrations_and_builds(tmp_path):
    """They import the runtime while the parent prepares; none is a preloading spare."""
    factory = FakeFactory()
    configs = [worker(tmp_path, "api", "streaming"), worker(tmp_path, "streaming")]
    options = SupervisorOptions(persist_dir=tmp_path / "state", registry_dir=tmp_path / "r")
    supervisor = RecordingSupervisor(
        configs, {"api": 0, "streaming": 0}, LogHub(), options, process_factory=factory
    )
    try:
        await supervisor.start()
        assert supervisor.spawned_at_prepare == 2
        assert [p.preload for p in factory.made[:2]] == [False, False]
        await settle()
        assert [p.preload for p in factory.made[2:]] == [True]  # the reload spare, after
    finally:
        await supervisor.shutdown()


async def test_a_failed_start_leaves_no_spare_behind(tmp_path):
    factory = FakeFactory()
    factory.outcomes = ["exit"]  # the first load: the process exits
    configs = [worker(tmp_path, "api")]
    options = SupervisorOptions(persist_dir=tmp_path / "state", registry_dir=tmp_path / "r")
    supervisor = Supervisor(configs, {"api": 0}, LogHub(), options, process_factory=factory)
    try:
        with pytest.raises(StartFailed):
            await supervisor.start()
        await settle()
        assert len(factory.made) == 1  # no reload spare was spawned for a session that ends
    finally:
        await supervisor.shutdown()


def test_the_dev_start_imports_neither_packaging_nor_watchfiles_nor_d1(tmp_path):
    """Each is needed only by some projects, or after the start: importing the session and
    applying migrations where there is no migrations folder leaves them out."""
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "import wranglerpy.supervisor.session\n"
        "from wranglerpy.config.schema import D1Database, WorkerConfig\n"
        "from wranglerpy.logs.hub import LogHub\n"
        "from wranglerpy.supervisor.migrations import apply_pending_migrations\n"
        f"root = Path({str(tmp_path)!r})\n"
        "config = WorkerConfig(name='w', config_path=root / 'wrangler.toml', main=None,\n"
        "    d1_databases=(D1Database(binding='DB', database_name='db', database_id='x'),))\n"
        "asyncio.run(apply_pending_migrations([config], lambda c: root / 'state', LogHub()))\n"
        "print(sorted(m for m in ('packaging', 'watchfiles', 'wranglerpy.bindings.d1')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
