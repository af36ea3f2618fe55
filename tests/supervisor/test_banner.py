"""The dev start-up banner in wrangler 4's form: workers-sdk
packages/deploy-helpers/src/deploy/helpers/print-bindings.ts (title "Your Worker has access to
the following bindings:", or "<name> has access..." with several workers; columns Binding /
Resource / Mode; values as env.NAME (value); mode "local", "[connected]"/"[not connected]"
for service bindings), then "Ready on <url>"."""

from pathlib import Path
from types import SimpleNamespace

from wranglerpy.config.load import load_worker
from wranglerpy.supervisor.session import banner_lines


def supervisor(tmp_path: Path, *configs: str) -> SimpleNamespace:
    workers = {}
    for n, text in enumerate(configs):
        folder = tmp_path / f"w{n}"
        folder.mkdir()
        (folder / "app.py").write_text("")
        (folder / "wrangler.toml").write_text(text)
        config = load_worker(folder / "wrangler.toml")
        url = f"http://127.0.0.1:{8787 + n}"
        workers[config.name] = SimpleNamespace(config=config, name=config.name, url=url)
    registry = SimpleNamespace(lookup=lambda service, env: None)
    return SimpleNamespace(workers=workers, registry=registry, options=SimpleNamespace())


def test_one_worker_prints_wranglers_bindings_table_then_ready(tmp_path: Path) -> None:
    lines = banner_lines(
        supervisor(
            tmp_path,
            'name = "api"\nmain = "app.py"\n[vars]\nGREETING = "hi"\nN = { a = 1 }\n'
            '[[kv_namespaces]]\nbinding = "KV"\nid = "kv1"\n'
            '[[services]]\nbinding = "OTHER"\nservice = "other"\n',
        )
    )
    assert lines[0] == "Your Worker has access to the following bindings:"
    assert lines[1].split() == ["Binding", "Resource", "Mode"]
    table = lines[2:6]
    assert any(
        r.startswith("env.OTHER (other)") and r.endswith("local [not connected]") for r in table
    )
    assert any(r.startswith("env.KV (kv1)") and "KV Namespace" in r for r in table)
    assert any(r.startswith('env.GREETING ("hi")') and "Environment Variable" in r for r in table)
    assert any(r.startswith('env.N ({"a": 1})') for r in table)
    # Columns line up under their headings.
    assert {r.index("local") for r in table} == {lines[1].index("Mode")}
    assert lines[6] == "" and lines[-1] == "⎔ Ready on http://127.0.0.1:8787"


def test_several_workers_name_themselves(tmp_path: Path) -> None:
    lines = banner_lines(
        supervisor(
            tmp_path,
            'name = "api"\nmain = "app.py"\n[vars]\nA = "1"\n',
            'name = "bare"\nmain = "app.py"\n',
        )
    )
    assert "api has access to the following bindings:" in lines
    assert "⎔ Ready on http://127.0.0.1:8787 (api)" in lines
    assert lines[-1] == "⎔ Ready on http://127.0.0.1:8788 (bare)"
