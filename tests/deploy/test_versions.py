import json
import pickle
import shutil
import uuid
from pathlib import Path

import pytest

from wranglerpy.config.load import load_worker
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.versions import (
    find_version,
    list_versions,
    load_version,
    snapshot,
    version_id_for,
)
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
    assert first.id == again.id
    assert str(uuid.UUID(first.id)) == first.id  # a UUID, as wrangler shows version ids
    assert len(first.content_hash) == 64 and first.id == version_id_for(first.content_hash)
    assert first.meta["content_hash"] == first.content_hash
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
    assert second.config().vars == (("A", "2"),)
    stored = json.loads((second.directory / "config.json").read_text())
    assert stored["config"]["vars"] == [["A", "2"]]
    assert not (second.directory / "config.pickle").exists()


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


def _make_legacy(version_dir: Path, versions: Path) -> Path:
    """Turn a fresh version into one as wranglerpy stored it before UUID ids and config.json:
    a 64-hex folder and id, the config pickled."""
    meta = json.loads((version_dir / "meta.json").read_text())
    old_id = meta.pop("content_hash")
    meta["id"] = old_id
    meta.pop("message"), meta.pop("tag")
    legacy = versions / old_id
    shutil.copytree(version_dir, legacy)
    config = load_version(EdgePaths.resolve(versions.parent), version_dir.name).config()
    (legacy / "config.pickle").write_bytes(pickle.dumps(config))
    (legacy / "config.json").unlink()
    (legacy / "meta.json").write_text(json.dumps(meta))
    shutil.rmtree(version_dir)
    return legacy


def test_versions_from_before_uuids_and_config_json_still_load(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(tmp_path / "edge")
    fresh = snapshot(load_worker(root / "wrangler.toml"), paths)
    legacy = _make_legacy(fresh.directory, paths.versions)
    [old] = list_versions(paths, "w")
    assert old.id == legacy.name and len(old.id) == 64
    assert old.config().vars == (("A", "1"),)
    assert find_version(paths, "w", old.id[:10]).id == old.id
    # Same content as the old version: still the same version, not a second copy.
    again = snapshot(load_worker(root / "wrangler.toml"), paths)
    assert again.id == old.id and len(list_versions(paths, "w")) == 1


def test_config_json_survives_fields_added_or_removed_by_an_upgrade(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(tmp_path / "edge")
    version = snapshot(load_worker(root / "wrangler.toml"), paths)
    stored = version.directory / "config.json"
    data = json.loads(stored.read_text())
    data["config"]["a_field_of_a_later_wranglerpy"] = {"x": 1}
    del data["config"]["observability"]  # a field this wranglerpy added: its default
    stored.write_text(json.dumps(data))
    config = version.config()
    assert config.vars == (("A", "1"),) and config.observability.enabled is False


def test_every_config_field_round_trips_through_config_json(tmp_path: Path) -> None:
    from wranglerpy.deploy import config_json

    root = project(tmp_path)
    (root / "public").mkdir()
    (root / "wrangler.toml").write_text(
        'name = "w"\nmain = "src/app.py"\ncompatibility_date = "2025-01-01"\n'
        'compatibility_flags = ["python_workers"]\nworkers_dev = false\n'
        'routes = [{ pattern = "example.com/api/*", zone_name = "example.com" }]\n'
        '[vars]\nA = "1"\nN = 3\nOBJ = { k = [1, 2] }\n'
        '[placement]\nmode = "smart"\n[triggers]\ncrons = ["*/5 * * * *"]\n'
        "[observability]\nenabled = true\nhead_sampling_rate = 0.5\n"
        '[assets]\ndirectory = "public"\nbinding = "ASSETS"\n'
        '[[kv_namespaces]]\nbinding = "KV"\nid = "kv1"\n'
        '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "db"\ndatabase_id = "d1"\n'
        '[[r2_buckets]]\nbinding = "B"\nbucket_name = "b"\n'
        '[[services]]\nbinding = "S"\nservice = "other"\n'
        '[ai]\nbinding = "AI"\n[version_metadata]\nbinding = "V"\n'
    )
    config = load_worker(root / "wrangler.toml")
    encoded = json.loads(json.dumps(config_json.encode(config)))
    assert config_json.decode(encoded, tmp_path) == config


def test_message_and_tag_annotate_the_version(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(tmp_path / "edge")
    version = snapshot(load_worker(root / "wrangler.toml"), paths, message="first", tag="v1")
    assert (version.message, version.tag) == ("first", "v1")
    again = snapshot(load_worker(root / "wrangler.toml"), paths, tag="v1.1")
    assert again.id == version.id and (again.message, again.tag) == ("first", "v1.1")
    assert load_version(paths, version.id).tag == "v1.1"
