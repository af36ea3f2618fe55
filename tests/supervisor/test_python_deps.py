import pytest

from wranglerpy.errors import ConfigError
from wranglerpy.supervisor.python_deps import declared_dependencies, is_satisfied, modules_dir


def test_reads_project_dependencies(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "w"\ndependencies = ["httpx>=0.1", "no-such-dist-xyz"]\n'
    )
    assert declared_dependencies(tmp_path) == ["httpx>=0.1", "no-such-dist-xyz"]


def test_no_pyproject_means_no_dependencies(tmp_path):
    assert declared_dependencies(tmp_path) == []


def test_malformed_pyproject_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\n")
    with pytest.raises(ConfigError, match="pyproject.toml"):
        declared_dependencies(tmp_path)


def test_satisfied_by_the_running_environment():
    assert is_satisfied("httpx")
    assert is_satisfied("httpx>=0.1")
    assert not is_satisfied("httpx<0.0.1")
    assert not is_satisfied("no-such-dist-xyz")
    assert is_satisfied('pywin32; sys_platform == "win32"')  # not for this platform


def test_install_folder_depends_on_the_requirements(tmp_path):
    assert modules_dir(tmp_path, ["a", "b"]) == modules_dir(tmp_path, ["b", "a"])
    assert modules_dir(tmp_path, ["a"]) != modules_dir(tmp_path, ["a==2"])
