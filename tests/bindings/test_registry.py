import pytest

from wranglerpy.bindings import registry
from wranglerpy.config.schema import KVNamespace, R2Bucket, WorkerConfig
from wranglerpy.errors import BindingError


def test_a_binding_that_cannot_start_is_reported_and_stands_in(tmp_path, monkeypatch):
    monkeypatch.setitem(registry.BINDING_MODULES, "r2_buckets", "wranglerpy.no_such_module")
    worker = WorkerConfig(
        name="w",
        config_path=tmp_path / "wrangler.toml",
        main=None,
        kv_namespaces=(KVNamespace("KV", "kv-id"),),
        r2_buckets=(R2Bucket("STORAGE", "bucket"),),
    )
    reported = []
    env = registry.build_storage_bindings(worker, tmp_path, lambda *args: reported.append(args))
    assert hasattr(env["KV"], "get")  # the healthy binding is there
    assert reported and reported[0][0] == "STORAGE"
    assert "No module named" in reported[0][1]
    with pytest.raises(BindingError, match=r"env.STORAGE \(R2 Bucket\) is not available"):
        env["STORAGE"].get("key")
    env["KV"].close()
