import pickle
from pathlib import Path

import pytest

from wranglerpy.config.load import load_worker
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.versions import find_version, list_versions, snapshot
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
    assert pickle.loads((second.directory / "config.pickle").read_bytes()).vars == (("A", "2"),)


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
    assert (version.directory / "config.pickle").stat().st_mode & 0o077 == 0


def test_an_edge_folder_inside_the_project_is_not_snapshotted(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(root / "edge-state")
    first = snapshot(load_worker(root / "wrangler.toml"), paths)
    second = snapshot(load_worker(root / "wrangler.toml"), paths)
    assert second.id == first.id
    assert not (first.directory / "src" / "edge-state").exists()
