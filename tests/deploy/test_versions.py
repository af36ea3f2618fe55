import json
import pickle
from pathlib import Path

import pytest

from wranglerpy.config.load import load_worker
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.versions import find_version, list_versions, rebase, snapshot, source_root
from wranglerpy.errors import DeployError


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "wrangler.toml").write_text(
        'name = "w"\nmain = "src/app.py"\ncompatibility_date = "2025-01-01"\n[vars]\nA = "1"\n'
    )
    (root / "src" / "app.py").write_text("X = 1\n")
    (root / "src" / "__pycache__").mkdir()
    (root / "src" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (root / ".wranglerpy" / "state").mkdir(parents=True)
    (root / ".wranglerpy" / "state" / "db.sqlite").write_bytes(b"data")
    return root


def test_same_content_same_version_and_paths_point_into_the_snapshot(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(tmp_path / "edge")
    first = snapshot(load_worker(root / "wrangler.toml"), paths)
    again = snapshot(load_worker(root / "wrangler.toml"), paths)
    assert first.id == again.id and len(first.id) == 64
    files = sorted(
        p.relative_to(first.directory / "src")
        for p in (first.directory / "src").rglob("*")
        if p.is_file()
    )
    assert files == [Path("src/app.py"), Path("wrangler.toml")]
    config = first.config()
    assert config.main == first.directory / "src" / "src" / "app.py"
    assert config.vars == (("A", "1"),)
    (root / "src" / "app.py").write_text("X = 2\n")
    changed = snapshot(load_worker(root / "wrangler.toml"), paths)
    assert changed.id != first.id
    assert (first.directory / "src" / "src" / "app.py").read_text() == "X = 1\n"  # immutable
    assert [v.id for v in list_versions(paths, "w")] in (
        [first.id, changed.id],
        [changed.id, first.id],
    )
    assert find_version(paths, "w", changed.id[:8]).id == changed.id


def test_vars_are_part_of_the_version(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(tmp_path / "edge")
    first = snapshot(load_worker(root / "wrangler.toml"), paths)
    text = (root / "wrangler.toml").read_text().replace('A = "1"', 'A = "2"')
    (root / "wrangler.toml").write_text(text)
    second = snapshot(load_worker(root / "wrangler.toml"), paths)
    assert second.id != first.id
    assert json.loads((second.directory / "config.json").read_text())["vars"] == [["A", "2"]]
    assert second.config().vars == (("A", "2"),)


def test_unknown_version_prefix_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="versions list w"):
        find_version(EdgePaths.resolve(tmp_path), "w", "abc")


def test_local_secret_files_and_tool_folders_stay_out_but_well_known_is_kept(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    for name in (".dev.vars", ".dev.vars.staging", ".env", ".env.local"):
        (root / name).write_text("TOKEN=local\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    (root / "public" / ".well-known").mkdir(parents=True)
    (root / "public" / ".well-known" / "security.txt").write_text("Contact: me\n")
    (root / ".gitignore").write_text("*.pyc\n")
    version = snapshot(load_worker(root / "wrangler.toml"), EdgePaths.resolve(tmp_path / "e"))
    files = sorted(
        str(p.relative_to(version.directory / "src"))
        for p in (version.directory / "src").rglob("*")
        if p.is_file()
    )
    assert files == [
        ".gitignore",
        "public/.well-known/security.txt",
        "src/app.py",
        "wrangler.toml",
    ]
    assert (version.directory / "config.json").stat().st_mode & 0o077 == 0


def test_an_edge_folder_inside_the_project_is_not_snapshotted(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(root / "edge-state")
    first = snapshot(load_worker(root / "wrangler.toml"), paths)
    second = snapshot(load_worker(root / "wrangler.toml"), paths)
    assert second.id == first.id
    assert not (first.directory / "src" / "edge-state").exists()


def test_the_stored_config_is_data_and_rebuilds_the_same_config(tmp_path: Path) -> None:
    """No pickle in a snapshot: the config is JSON and reads back equal (issue 15, deliver 7)."""
    root = project(tmp_path)
    config = load_worker(root / "wrangler.toml")
    version = snapshot(config, EdgePaths.resolve(tmp_path / "edge"))
    assert not (version.directory / "config.pickle").exists()
    assert version.config() == rebase(config, source_root(config), version.directory / "src")


def test_a_config_field_added_or_removed_since_the_snapshot_does_not_break_it(
    tmp_path: Path,
) -> None:
    """What an upgrade of wranglerpy does to old snapshots: a field the data lacks takes its
    default, a field the class no longer has is ignored."""
    root = project(tmp_path)
    version = snapshot(load_worker(root / "wrangler.toml"), EdgePaths.resolve(tmp_path / "edge"))
    stored = version.directory / "config.json"
    data = json.loads(stored.read_text())
    del data["workers_dev"]
    data["a_field_from_the_future"] = {"x": 1}
    stored.write_text(json.dumps(data))
    again = version.config()
    assert again.workers_dev == WorkerConfig.__dataclass_fields__["workers_dev"].default
    assert again.vars == (("A", "1"),)


def test_snapshots_stored_as_pickle_by_older_versions_still_load(tmp_path: Path) -> None:
    root = project(tmp_path)
    version = snapshot(load_worker(root / "wrangler.toml"), EdgePaths.resolve(tmp_path / "edge"))
    config = version.config()
    (version.directory / "config.json").unlink()
    (version.directory / "config.pickle").write_bytes(pickle.dumps(config))
    assert version.config() == config
    (version.directory / "config.pickle").write_bytes(b"\x80\x04garbage")
    with pytest.raises(DeployError, match="stored by an older wranglerpy"):
        version.config()
