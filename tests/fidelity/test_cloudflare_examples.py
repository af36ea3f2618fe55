"""Cloudflare's public Python examples run unchanged (copied under fixtures/, Apache-2.0).

``19-django-todo-d1`` is not here: it needs ``django-cf>=0.2.14``, which the package index this
project installs from does not carry (``pip index versions django-cf`` on 2026-12-01: 0.1.5 only,
without ``django_cf.db.backends.d1``). 03-fastapi and 12-image-gen need the ``test`` extra's
FastAPI and Pillow.
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
        for module in [m for m in sys.modules if m.startswith(("hello_django", "entry", "worker"))]:
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


async def test_03_fastapi(example_app) -> None:
    """python-workers-examples tests/test_examples.py test_03_fastapi: FastAPI through
    ``asgi.fetch(app, request.js_object, self.env)``, the env in ``scope["env"]``."""
    pytest.importorskip("fastapi")
    client, _ = example_app("03-fastapi")
    async with client:
        root = await client.get("/")
        hi = await client.get("/hi/Dominik")
        env = await client.get("/env")
    assert root.status_code == 200
    assert root.text == (
        '{"message":"This is an example of FastAPI with Jinja2 - go to /hi/<name> to see a '
        'template rendered"}'
    )
    assert root.headers["content-type"] == "application/json"
    assert (hi.status_code, hi.text) == (200, '{"message":"Hello, Dominik!"}')
    assert env.text == (
        '{"message":"Here is an example of getting an environment variable: My env var"}'
    )
    assert env.headers["content-type"] == "application/json"


@pytest.mark.slow
async def test_09_workers_ai(example_app) -> None:
    """python-workers-examples tests/test_examples.py test_09_workers_ai: ``env.AI.run`` of
    ``@cf/openai/gpt-oss-120b`` (Responses API input) answers, and ``response.output`` is
    JSON. Locally the model is the small stand-in of wranglerpy/ai/models.py."""
    client, _ = example_app("09-workers-ai")
    async with client:
        response = await client.get("/", timeout=600)
    assert response.status_code == 200, response.text
    output = response.json()
    assert isinstance(output, list) and output  # the Responses API's output items
    assert any(item.get("type") == "message" for item in output)


async def test_12_image_gen(example_app) -> None:
    """12-image-gen: Pillow images returned as ``Response(to_js(png_bytes).buffer)``."""
    pytest.importorskip("PIL")
    client, _ = example_app("12-image-gen")
    async with client:
        index = await client.get("/")
        images = [
            await client.get(path)
            for path in (
                "/gradient?color1=%23000000&color2=%23ffffff&width=20&height=10",
                "/badge?text=wranglerpy",
                "/placeholder?width=64&height=48",
                "/chart?values=1,2,3&labels=a,b,c",
            )
        ]
    assert index.status_code == 200 and index.headers["content-type"] == "text/html"
    assert "/gradient" in index.text
    for image in images:
        assert image.status_code == 200, image.text
        assert image.headers["content-type"] == "image/png"
        assert image.headers["cache-control"] == "public, max-age=3600"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    from io import BytesIO

    from PIL import Image

    gradient = Image.open(BytesIO(images[0].content))
    assert gradient.size == (20, 10)
    assert gradient.getpixel((0, 0)) == (0, 0, 0)  # color1 at the top
