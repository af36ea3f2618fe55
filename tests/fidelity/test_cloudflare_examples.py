"""Cloudflare's public Python examples run unchanged (copied under fixtures/, Apache-2.0).

``19-django-todo-d1`` is not here: it needs ``django-cf>=0.2.14``, which the package index this
project installs from does not carry (it stops at 0.1.5, without ``django_cf.db.backends.d1``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from wranglerpy.bindings.registry import build_storage_bindings
from wranglerpy.config.load import load_worker as load_config
from wranglerpy.runtime.app import WorkerApp
from wranglerpy.runtime.assets import AssetServer
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.events import ListEventSink
from wranglerpy.runtime.loader import import_worker

EXAMPLES = Path(__file__).parent / "fixtures" / "cloudflare-examples"


@pytest.fixture
def example_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The example's worker, with its config's bindings (state under tmp_path)."""

    opened: list[Env] = []

    def build(name: str) -> tuple[httpx.AsyncClient, Env]:
        config = load_config(EXAMPLES / name / "wrangler.jsonc")
        assert config.main is not None
        monkeypatch.syspath_prepend(str(config.main.parent))
        for module in [m for m in sys.modules if m.startswith(("hello_django", "entry"))]:
            monkeypatch.delitem(sys.modules, module)
        loaded = import_worker(config.main, config.compatibility_date, config.compatibility_flags)
        env = Env({**config.vars_dict(), **build_storage_bindings(config, tmp_path / "state")})
        opened.append(env)
        if config.assets and config.assets.binding:
            from wranglerpy.runtime.child import AssetFetcher

            env = Env({**env, config.assets.binding: AssetFetcher(AssetServer(config.assets))})
        assets = AssetServer(config.assets) if config.assets else None
        app = WorkerApp(config.name, env, loaded, ListEventSink(), assets=assets)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://l")
        return client, env

    yield build
    for env in opened:
        for binding in env.values():
            close = getattr(binding, "close", None)
            if callable(close):
                close()


async def test_01_hello(example_app) -> None:
    """python-workers-examples tests/test_examples.py test_01_hello."""
    client, _ = example_app("01-hello")
    async with client:
        response = await client.get("/")
    assert response.text == "Hello world!"
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"


async def test_02_binding(example_app) -> None:
    client, _ = example_app("02-binding")
    async with client:
        response = await client.get("/")
    assert response.text == "baz"
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"


async def test_04_query_d1(example_app) -> None:
    client, env = example_app("04-query-d1")
    await env.DB.exec((EXAMPLES / "04-query-d1" / "db_init.sql").read_text())
    async with client:
        response = await client.get("/")
    data = response.json()
    assert response.status_code == 200 and set(data) == {"quote", "author"}


async def test_06_assets(example_app) -> None:
    """python-workers-examples tests/test_examples.py test_06_assets (env.ASSETS.fetch)."""
    client, _ = example_app("06-assets")
    pairs = [
        ("", "text/html; charset=utf-8"),
        ("image.svg", "image/svg+xml"),
        ("style.css", "text/css; charset=utf-8"),
        ("script.js", "text/javascript; charset=utf-8"),
        ("favicon.ico", "image/vnd.microsoft.icon"),
    ]
    async with client:
        for path, content_type in pairs:
            response = await client.get(f"/{path}")
            assert response.status_code == 200, path
            assert response.headers["content-type"] == content_type, path


async def test_08_cron(example_app) -> None:
    """08-cron: `fetch(self)` (relaxed) and `scheduled(self, controller, env, ctx)`."""
    client, _ = example_app("08-cron")
    async with client:
        page = await client.get("/")
        ran = await client.get("/cdn-cgi/handler/scheduled", params={"cron": "*/1 * * * *"})
    assert page.text.startswith("Hello from Cron Worker")
    assert (ran.status_code, ran.text) == (200, "ok")


async def test_18_django(example_app) -> None:
    """18-django/src/entry.py: a Django project through workers.wsgi.fetch."""
    client, _ = example_app("18-django")
    async with client:
        response = await client.get("/")
        missing = await client.get("/nope")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello from Django on Cloudflare Workers!"}
    assert response.headers["content-type"] == "application/json"
    assert missing.status_code == 404
