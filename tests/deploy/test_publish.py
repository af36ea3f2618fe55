import shutil
from pathlib import Path

import pytest

from wranglerpy.config.schema import ServiceBinding, WorkerConfig
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.publish import keep_dependencies, plan
from wranglerpy.errors import ConfigError, DeployError


def worker(name: str, *targets: str, environment: str | None = None) -> WorkerConfig:
    services = tuple(ServiceBinding(t.split("-")[-1].upper(), t, environment) for t in targets)
    return WorkerConfig(
        name=name, config_path=Path(f"/p/{name}.toml"), main=None, services=services
    )


def test_targets_come_first_as_the_seeds_ask() -> None:
    api = worker("inference-ui-api", "inference-ui-streaming", environment="production")
    streaming = worker("inference-ui-streaming")
    assert [w.name for w in plan([api, streaming], set())] == [
        "inference-ui-streaming",
        "inference-ui-api",
    ]


def test_a_target_already_on_the_edge_is_enough() -> None:
    api = worker("api", "streaming", environment="production")
    assert [w.name for w in plan([api], {"streaming"})] == ["api"]
    assert [w.name for w in plan([api], {"streaming-production"})] == ["api"]


def test_a_missing_target_names_the_binding_the_target_and_the_fix() -> None:
    api = worker("inference-ui-api", "inference-ui-streaming", environment="production")
    with pytest.raises(DeployError) as caught:
        plan([api], {"something-else"})
    message = caught.value.message
    assert message.startswith('Service binding STREAMING of worker "inference-ui-api"')
    assert '"inference-ui-streaming (environment production)"' in message
    assert "not deployed on the local edge" in message
    assert "wranglerpy deploy --all" in message and "first" in message


def test_a_cycle_is_reported_before_anything_is_deployed() -> None:
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        plan([worker("a", "b"), worker("b", "a")], set())


def test_a_worker_binding_itself_needs_nothing_else() -> None:
    assert [w.name for w in plan([worker("solo", "solo")], set())] == ["solo"]


def test_installed_packages_are_copied_into_the_edge_once(tmp_path: Path) -> None:
    modules = tmp_path / "proj" / ".wranglerpy" / "python_modules" / "abc123"
    (modules / "pkg").mkdir(parents=True)
    (modules / "pkg" / "__init__.py").write_text("X = 1\n")
    (modules / ".complete").write_text("")
    paths = EdgePaths.resolve(tmp_path / "edge")
    kept = keep_dependencies(modules, paths)
    assert kept == paths.root / "python_modules" / "abc123"
    shutil.rmtree(tmp_path / "proj")  # the project's own copy may go away
    assert (kept / "pkg" / "__init__.py").read_text() == "X = 1\n"
    assert keep_dependencies(modules, paths) == kept  # already there: not copied again
