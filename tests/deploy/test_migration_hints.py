import asyncio
from pathlib import Path

from wranglerpy.bindings.d1 import create
from wranglerpy.bindings.d1.admin import apply_migrations
from wranglerpy.config.load import load_worker
from wranglerpy.deploy.migration_hints import migration_hints


def test_unapplied_d1_migrations_are_pointed_out_until_applied(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    (root / "app.py").write_text("")
    (root / "migrations" / "0001_init.sql").write_text("CREATE TABLE t (id INTEGER);\n")
    (root / "wrangler.toml").write_text(
        'name = "w"\nmain = "app.py"\ncompatibility_date = "2025-01-01"\n'
        '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "appdb"\n'
    )
    config = load_worker(root / "wrangler.toml")
    state = tmp_path / "edge-state"
    (hint,) = migration_hints(config, state)
    assert "appdb has 1 migration(s) not applied on the edge" in hint
    assert f"wranglerpy d1 migrations apply appdb -c {root / 'wrangler.toml'}" in hint
    assert f"--persist-to {state}" in hint
    db = create(config.d1_databases[0], state)
    try:
        asyncio.run(apply_migrations(db, root / "migrations", "d1_migrations"))
    finally:
        db.close()
    assert migration_hints(config, state) == []


def test_two_workers_sharing_a_database_get_one_hint(tmp_path: Path) -> None:
    """Deploying the example's two workers (one D1 database) printed the advice twice."""
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_init.sql").write_text("CREATE TABLE t (id INTEGER);\n")
    for name in ("a", "b"):
        (root / f"wrangler-{name}.toml").write_text(
            f'name = "{name}"\nmain = "app.py"\ncompatibility_date = "2025-01-01"\n'
            '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "shared"\n'
        )
    shown: set[str] = set()
    state = tmp_path / "edge-state"
    first = migration_hints(load_worker(root / "wrangler-a.toml"), state, shown)
    second = migration_hints(load_worker(root / "wrangler-b.toml"), state, shown)
    assert len(first) == 1 and second == []
