from pathlib import Path

import pytest
from watchfiles import Change

from wranglerpy.config.schema import Build, WorkerConfig
from wranglerpy.supervisor.watcher import affected, named_first, source_filter, watch_roots


def worker(tmp_path: Path, name: str, folder: str, **kwargs) -> WorkerConfig:
    (tmp_path / folder).mkdir(exist_ok=True)
    main = tmp_path / folder / "entry.py"
    main.write_text("")
    config = tmp_path / f"wrangler-{name}.toml"
    config.write_text("")
    return WorkerConfig(name=name, config_path=config, main=main, **kwargs)


def test_a_change_reloads_only_the_workers_that_watch_it(tmp_path):
    api = worker(tmp_path, "api", "api")
    extra = tmp_path / "shared"
    extra.mkdir()
    streaming = worker(tmp_path, "streaming", "streaming", build=Build(watch_dir=(extra,)))
    workers = {"api": api, "streaming": streaming}
    assert set(affected([str(tmp_path / "api" / "entry.py")], workers)) == {"api"}
    assert set(affected([str(extra / "lib.py")], workers)) == {"streaming"}
    assert set(affected([str(tmp_path / "wrangler-api.toml")], workers)) == {"api"}
    assert affected([str(tmp_path / "unrelated.txt")], workers) == {}


def test_dev_vars_is_watched_when_present(tmp_path):
    api = worker(tmp_path, "api", "api")
    assert tmp_path / ".dev.vars" not in watch_roots(api)
    (tmp_path / ".dev.vars").write_text("A=1\n")
    assert (tmp_path / ".dev.vars").resolve() in watch_roots(api)


@pytest.mark.parametrize(
    ("env", "files", "read"),
    [
        ("production", [".dev.vars", ".dev.vars.production"], ".dev.vars.production"),
        (None, [".env", ".env.local"], ".env.local"),
        ("staging", [".env", ".env.staging"], ".env.staging"),
    ],
)
def test_the_secret_file_that_was_read_is_watched(tmp_path, env, files, read):
    """README: secrets come from `.dev.vars` (or `.dev.vars.<env>`, falling back to `.env`
    files), and saving one reloads the worker: every file its secrets were read from."""
    api = worker(tmp_path, "api", "api", env_name=env)
    for name in files:
        (tmp_path / name).write_text("A=1\n")
    assert set(affected([str(tmp_path / read)], {"api": api})) == {"api"}


def test_a_python_file_reloads_only_the_workers_that_import_it(tmp_path):
    api = worker(tmp_path, "api", "shared")
    streaming = worker(tmp_path, "streaming", "shared")
    helper = tmp_path / "shared" / "helper.py"
    helper.write_text("")
    workers = {"api": api, "streaming": streaming}
    modules = {
        "api": frozenset({str(api.main.resolve())}),
        "streaming": frozenset({str(streaming.main.resolve()), str(helper.resolve())}),
    }
    assert set(affected([str(helper)], workers, modules)) == {"streaming"}
    assert set(affected([str(tmp_path / "shared" / "data.json")], workers, modules)) == {
        "api",
        "streaming",
    }
    broken = {"api": frozenset(), "streaming": modules["streaming"]}
    assert set(affected([str(helper)], workers, broken)) == {"api", "streaming"}


def test_editor_temp_files_are_not_sources(tmp_path):
    """vim's "4913" probe and rename-on-save temp files never trigger or name a reload."""
    accepts = source_filter()
    for name in ("4913", "entry.py.tmp", "entry.py.tmp.1234", "entry.py.tmp42", "entry.py~"):
        assert not accepts(Change.added, str(tmp_path / name)), name
    assert accepts(Change.modified, str(tmp_path / "entry.py"))


def test_the_reload_line_names_the_file_that_exists(tmp_path):
    real = tmp_path / "entry.py"
    real.write_text("")
    assert named_first([str(tmp_path / "gone.swp-x"), str(real)])[0] == str(real)
