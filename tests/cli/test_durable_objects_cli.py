"""``wranglerpy durable-objects list|get|delete`` on local state."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.durable_objects.host import ObjectHost
from wranglerpy.bindings.durable_objects.namespace import DurableObjectNamespace
from wranglerpy.cli.main import app
from wranglerpy.runtime.entrypoint import DurableObject

CONFIG = """
name = "lists"
main = "entry.py"

[[durable_objects.bindings]]
name = "LISTS"
class_name = "List"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["List"]
"""
runner = CliRunner()


class List(DurableObject):
    async def add(self, item: str) -> None:
        items = (await self.ctx.storage.get("items")) or []
        await self.ctx.storage.put("items", [*items, item])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)

    async def fill() -> None:
        host = ObjectHost("lists", tmp_path / ".wranglerpy" / "state", {"List": True})
        module = types.ModuleType("entry")
        module.List = List  # type: ignore[attr-defined]
        host.bind_module(module)
        ns = DurableObjectNamespace("LISTS", "List", host)
        await ns.getByName("groceries").add("milk")
        await ns.getByName("groceries").add("eggs")
        await ns.get(ns.newUniqueId()).add("x")
        await host.stop()

    asyncio.run(fill())
    return tmp_path


def test_list_classes_and_objects(project: Path) -> None:
    result = runner.invoke(app, ["durable-objects", "list"])
    assert result.exit_code == 0, result.output
    assert "lists-List" in result.output and "2 objects" in result.output
    result = runner.invoke(app, ["durable-objects", "list", "LISTS"])
    assert result.exit_code == 0, result.output
    assert '"groceries"' in result.output and "(unique id)" in result.output


def test_get_a_key_and_delete_an_object(project: Path) -> None:
    result = runner.invoke(app, ["durable-objects", "get", "List", "groceries", "items"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == '["milk", "eggs"]'
    result = runner.invoke(app, ["durable-objects", "delete", "List", "groceries"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["durable-objects", "get", "List", "groceries", "items"])
    assert result.exit_code == 1
    assert "No stored Durable Object List" in result.output


def test_unknown_class_is_one_clear_line(project: Path) -> None:
    result = runner.invoke(app, ["durable-objects", "list", "Nope"])
    assert result.exit_code != 0
    assert 'No Durable Object class or binding named "Nope"' in result.output
    assert "Traceback" not in result.output


def test_types_give_durable_object_namespaces(project: Path) -> None:
    import subprocess
    import sys

    (project / "entry.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from js import Env\n\n"
        "async def handle(env: 'Env') -> None:\n"
        "    stub = env.LISTS.getByName('groceries')\n"
        "    reveal_type(stub)\n"
        "    reveal_type(env.LISTS.idFromName('x').toString())\n"
    )
    result = runner.invoke(app, ["types"])
    assert result.exit_code == 0, result.output
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "entry.py"],
        cwd=project,
        env={"MYPYPATH": str(project / "typings"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    ).stdout
    assert 'Revealed type is "js.DurableObjectStub"' in checked, checked
    assert 'Revealed type is "str"' in checked, checked
