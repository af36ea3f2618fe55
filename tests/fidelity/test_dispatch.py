"""How handlers are found and called, by compatibility date, and top-level entropy."""

from __future__ import annotations

from pathlib import Path

import pytest

from wranglerpy.runtime.entrypoint import ExecutionContext
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.handlers import call_handler
from wranglerpy.runtime.loader import WorkerLoadError, import_worker
from wranglerpy.runtime.scheduled import ScheduledController

MODULE_LEVEL = """
from workers import Response

async def on_fetch(request):
    return Response("module-level")
"""

CLASS_FETCH = """
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("class fetch")
"""


async def test_module_level_on_fetch_runs_before_2025_08_14(harness) -> None:
    """workerd compatibility-date.capnp:915-918 (python_no_global_handlers from 2025-08-14);
    python-entrypoint-helper.ts:608-622 (legacy module-level handlers)."""
    async with harness.build(MODULE_LEVEL, compatibility_date="2025-08-13") as client:
        assert (await client.get("/")).text == "module-level"


async def test_module_level_on_fetch_is_ignored_from_2025_08_14(harness) -> None:
    """python-entrypoint-helper.ts:608: global handlers only when LEGACY_GLOBAL_HANDLERS."""
    async with harness.build(MODULE_LEVEL, compatibility_date="2025-08-14") as client:
        response = await client.get("/")
    assert response.status_code == 500 and "has no handler" in response.json()["message"]


async def test_flag_turns_it_on_before_the_date(harness) -> None:
    """compatibility-date.capnp:916 python_no_global_handlers as a flag."""
    path = harness.tmp_path / "flagged.py"
    path.write_text(MODULE_LEVEL)
    with pytest.raises(WorkerLoadError, match="has no handler"):
        import_worker(path, "2024-01-01", ("python_no_global_handlers",))


async def test_before_the_date_default_fetch_is_named_on_fetch(harness) -> None:
    """python-entrypoint-helper.ts:418-426, 441-445: with legacy handlers `fetch` is looked up
    as `on_fetch` on the Default instance; missing → TypeError."""
    async with harness.build(CLASS_FETCH, compatibility_date="2025-01-01") as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert response.json()["message"] == "Method on_fetch does not exist"
    async with harness.build(CLASS_FETCH, compatibility_date="2025-09-01") as client:
        assert (await client.get("/")).text == "class fetch"


async def test_fetch_is_relaxed_and_gets_env_and_ctx(harness) -> None:
    """python-entrypoint-helper.ts:466 (fetch is a relaxed call; workerd passes env, ctx)."""
    source = """
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request, env, ctx):
        return Response(env.GREETING)
"""
    async with harness.build(source) as client:
        assert (await client.get("/")).text == "hi"


def _loaded(tmp_path: Path, source: str, date: str = "2025-09-01"):
    path = tmp_path / f"w{abs(hash(source))}.py"
    path.write_text(source)
    return import_worker(path, date)


async def test_scheduled_gets_exactly_event_env_ctx(tmp_path: Path) -> None:
    """python-entrypoint-helper.ts:466-471 + introspection.py:76-85: scheduled is not relaxed,
    so `scheduled(self, controller)` fails with Python's TypeError, as on Cloudflare."""
    strict = _loaded(
        tmp_path,
        "from workers import WorkerEntrypoint\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def scheduled(self, controller):\n        pass\n",
    )
    ctx, env = ExecutionContext(), Env({})
    with pytest.raises(TypeError, match="positional argument"):
        await call_handler(strict, "scheduled", ScheduledController("* * * * *", 0), env, ctx)


async def test_queue_and_test_handler_kinds(tmp_path: Path) -> None:
    """SUPPORTED_HANDLER_NAMES (python-entrypoint-helper.ts:534-541) has queue; `test` is a
    relaxed call (:466) and a module-level handler before 2025-08-14 (:620-622)."""
    source = (
        "from workers import WorkerEntrypoint\nSEEN = []\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def queue(self, batch, env, ctx):\n        SEEN.append(('queue', batch))\n"
        "    async def test(self):\n        SEEN.append(('test',))\n"
    )
    loaded = _loaded(tmp_path, source)
    ctx, env = ExecutionContext(), Env({})
    assert await call_handler(loaded, "queue", ["m1"], env, ctx)
    assert await call_handler(loaded, "test", None, env, ctx)
    assert loaded.module.SEEN == [("queue", ["m1"]), ("test",)]
    legacy = _loaded(tmp_path, "SEEN = []\ndef test():\n    SEEN.append(1)\n", "2025-01-01")
    assert await call_handler(legacy, "test", None, env, ctx) and legacy.module.SEEN == [1]


async def test_scheduled_route_answers_the_outcome(harness) -> None:
    """wrangler dev's /cdn-cgi/handler/scheduled answers "ok", or 500 "exception"."""
    source = """
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("x")

    async def scheduled(self, controller, env, ctx):
        if controller.cron == "boom":
            raise RuntimeError("cron failed")
"""
    async with harness.build(source) as client:
        ok = await client.get("/cdn-cgi/handler/scheduled", params={"cron": "* * * * *"})
        failed = await client.get("/cdn-cgi/handler/scheduled", params={"cron": "boom"})
    assert (ok.status_code, ok.text) == (200, "ok")
    assert (failed.status_code, failed.text) == (500, "exception")
    assert harness.requests()[1]["outcome"] == "exception"


def test_entrypoint_classes_imported_into_main_count(tmp_path: Path) -> None:
    """introspection.py:40-62: every exported subclass counts, wherever it was defined;
    __all__ is honoured."""
    (tmp_path / "handlers.py").write_text(CLASS_FETCH)
    main = tmp_path / "entry_imported.py"
    main.write_text("from handlers import Default\n")
    assert import_worker(main, "2025-09-01").default is not None
    hidden = tmp_path / "entry_all.py"
    hidden.write_text("from handlers import Default\n__all__ = []\nasync def app(s, r, x): pass\n")
    assert import_worker(hidden, "2025-09-01").default is None


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("import os\nos.urandom(4)", r"\[Errno 29\] Cannot get entropy outside of request context"),
        ("import uuid\nuuid.uuid4()", r"Cannot get entropy outside of request context"),
        ("import random\nrandom.random()", r"Cannot use random\.random\(\) outside of request"),
        ("import random\nrandom.seed(1)", r"Cannot use random\.seed\(\) outside of request"),
    ],
)
def test_top_level_entropy_fails(tmp_path: Path, statement: str, error: str) -> None:
    """workerd topLevelEntropy: allow_entropy.py:31-34 (OSError EIO) and
    import_patch_manager.py:256-263 (RuntimeError for random's functions)."""
    main = tmp_path / "entropy_main.py"
    main.write_text(statement + "\n" + CLASS_FETCH)
    with pytest.raises(WorkerLoadError, match=error):
        import_worker(main, "2025-09-01")


async def test_entropy_works_inside_requests_even_through_top_level_imports(harness) -> None:
    """import_patch_manager.py:243-250: after the top level, the real functions answer."""
    source = """
import uuid
from random import randint
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(f"{len(str(uuid.uuid4()))} {0 <= randint(0, 9) <= 9}")
"""
    async with harness.build(source) as client:
        assert (await client.get("/")).text == "36 True"
