"""version_metadata and the stand-ins for bindings that are not emulated, as the registry
builds them (miniflare ``plugins/version-metadata/index.ts``: a random UUID, an empty tag and
the start time in dev)."""

import uuid
from datetime import datetime
from pathlib import Path

import pytest

from wranglerpy.bindings import registry
from wranglerpy.bindings.version_metadata import VersionInfo
from wranglerpy.config.schema import VersionMetadata, WorkerConfig
from wranglerpy.errors import BindingError


def worker(tmp_path: Path, **kwargs: object) -> WorkerConfig:
    return WorkerConfig(name="w", config_path=tmp_path / "wrangler.toml", main=None, **kwargs)


def test_dev_gives_a_fresh_id_an_empty_tag_and_the_start_time(tmp_path: Path) -> None:
    config = worker(tmp_path, version_metadata=VersionMetadata("CF_VERSION"))
    first = registry.build_storage_bindings(config, tmp_path)["CF_VERSION"]
    second = registry.build_storage_bindings(config, tmp_path)["CF_VERSION"]
    assert uuid.UUID(first.id) and first.id != second.id
    assert first.tag == ""
    assert datetime.fromisoformat(first.timestamp.replace("Z", "+00:00"))


def test_a_deployed_version_is_passed_through(tmp_path: Path) -> None:
    config = worker(tmp_path, version_metadata=VersionMetadata("V"))
    version = VersionInfo("1234", "v1.2", "2026-01-01T00:00:00.000Z")
    env = registry.build_storage_bindings(config, tmp_path, version=version)
    assert dict(env["V"]) == {"id": "1234", "tag": "v1.2", "timestamp": "2026-01-01T00:00:00.000Z"}


def test_an_unemulated_binding_says_so_on_use(tmp_path: Path) -> None:
    config = worker(tmp_path, unsupported=(("CERT", "mtls_certificates"),))
    env = registry.build_storage_bindings(config, tmp_path)
    with pytest.raises(
        BindingError,
        match=r"env.CERT \(mtls_certificates\) is not available: "
        r'wranglerpy does not emulate "mtls_certificates" bindings',
    ):
        env["CERT"].fetch("https://example.com")
    rows = registry.describe(config)
    assert ("CERT", "mtls_certificates", "not emulated") in rows
