"""Local implementations of the Workers bindings, one module per binding type.

Contract: each module exposes ``create(config, persist_dir) -> object`` where ``config`` is
the binding's dataclass from ``wranglerpy.config.schema`` and ``persist_dir`` the root of all
local state. ``registry.build_env`` turns a worker's config into its ``env`` mapping.
State layout under ``persist_dir``: ``kv/<id>/``, ``d1/<id>/``, ``r2/<bucket>/``,
``analytics_engine/<dataset>/``.
"""
