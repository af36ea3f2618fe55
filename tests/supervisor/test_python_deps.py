import pytest

from wranglerpy.errors import ConfigError
from wranglerpy.logs.hub import LogHub
from wranglerpy.supervisor.python_deps import (
    declared_dependencies,
    ensure_dependencies,
    is_satisfied,
    modules_dir,
    provided_by_runtime,
)


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


@pytest.mark.parametrize(
    ("requirement", "provided"),
    [
        ("workers-runtime-sdk>=1.1.1", True),
        ("Workers_Py", True),
        ("webtypy>=0.1.7", True),
        ("httpx>=0.28", False),
        ("not a requirement!", False),
    ],
)
def test_runtime_provided_distributions_are_recognised(requirement, provided):
    assert provided_by_runtime(requirement) is provided


async def test_runtime_provided_distributions_are_never_installed(tmp_path):
    # Cloudflare's 16-sync-http-clients example declares the runtime SDK as a dependency; pip
    # must not be run for it (its `workers` needs Pyodide and would shadow the runtime's).
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "w"\ndependencies = ["workers-runtime-sdk>=1.1.1", "httpx"]\n'
    )
    lines = []
    hub = LogHub()
    hub.subscribe(lines.append)
    assert await ensure_dependencies(tmp_path, hub, "w") is None
    assert lines == []
    assert not (tmp_path / ".wranglerpy").exists()
