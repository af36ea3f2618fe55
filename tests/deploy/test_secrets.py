"""Which secrets a version carries: never .dev.vars; --secrets-file, else the live version's."""

from __future__ import annotations

from pathlib import Path

import pytest

from wranglerpy.config.load import load_worker
from wranglerpy.deploy.history import Deployment, DeploymentLog
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.secrets import with_deployed_secrets
from wranglerpy.deploy.versions import snapshot
from wranglerpy.errors import ConfigError


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "wrangler.toml").write_text(
        'name = "w"\nmain = "src/app.py"\ncompatibility_date = "2025-01-01"\n'
    )
    (root / "src" / "app.py").write_text("X = 1\n")
    (root / ".dev.vars").write_text("TOKEN=from-dev-vars\n")
    return root


def test_dev_vars_are_not_deployed_and_the_note_says_how_to_give_secrets(tmp_path: Path) -> None:
    root = project(tmp_path)
    config = load_worker(root / "wrangler.toml")
    assert config.secrets == (("TOKEN", "from-dev-vars"),)  # what `dev` sees
    deployed, note = with_deployed_secrets(config, EdgePaths.resolve(tmp_path / "e"), None)
    assert deployed.secrets == ()
    assert "not deployed (TOKEN)" in note and "--secrets-file" in note


def test_a_secrets_file_then_later_versions_keep_the_live_secrets(tmp_path: Path) -> None:
    root = project(tmp_path)
    paths = EdgePaths.resolve(tmp_path / "e")
    secrets = tmp_path / "prod.vars"
    secrets.write_text("TOKEN=prod\nOTHER='two words'\n")
    config = load_worker(root / "wrangler.toml")
    first, note = with_deployed_secrets(config, paths, secrets)
    assert first.secrets == (("OTHER", "two words"), ("TOKEN", "prod"))
    assert note.endswith("OTHER, TOKEN")
    version = snapshot(first, paths)
    assert version.config().secrets == first.secrets
    DeploymentLog(paths.deployments).record(Deployment.new("w", version.id))
    later, note = with_deployed_secrets(config, paths, None)
    assert later.secrets == first.secrets
    assert note == "Secrets kept from the live version: OTHER, TOKEN"
    assert "prod" not in (version.directory / "meta.json").read_text()


def test_a_missing_secrets_file_is_a_config_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        with_deployed_secrets(
            load_worker(root / "wrangler.toml"), EdgePaths.resolve(tmp_path), tmp_path / "nope"
        )
