"""``durable_objects.bindings`` and ``migrations`` (wrangler's shapes and error texts)."""

from __future__ import annotations

import pytest

from tests.config.conftest import Write
from wranglerpy.config.durable_objects import (
    DurableObjectBinding,
    Migration,
    RenamedClass,
    TransferredClass,
    class_storage,
)
from wranglerpy.config.load import load_worker
from wranglerpy.errors import ConfigError

BASE = """
name = "chat"
main = "src/entry.py"

[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"

[[durable_objects.bindings]]
name = "OTHER"
class_name = "Counter"
script_name = "counter-worker"
"""


def test_bindings_and_migrations_are_parsed(write: Write) -> None:
    path = write(
        "wrangler.toml",
        BASE
        + """
[[migrations]]
tag = "v1"
new_classes = ["Old"]

[[migrations]]
tag = "v2"
new_sqlite_classes = ["Room"]
renamed_classes = [{ from = "Old", to = "Older" }]
transferred_classes = [{ from = "X", from_script = "w", to = "Y" }]
""",
    )
    config = load_worker(path)
    assert config.durable_objects == (
        DurableObjectBinding("ROOMS", "Room"),
        DurableObjectBinding("OTHER", "Counter", script_name="counter-worker"),
    )
    assert config.migrations[1] == Migration(
        tag="v2",
        new_sqlite_classes=("Room",),
        renamed_classes=(RenamedClass("Old", "Older"),),
        transferred_classes=(TransferredClass("X", "w", "Y"),),
    )
    assert class_storage(config.migrations) == {"Older": False, "Room": True, "Y": True}
    assert "ROOMS" in config.binding_names()
    assert not any("durable_objects" in w for w in config.warnings)


def test_a_bound_class_no_migration_creates_is_the_deploy_error(write: Write) -> None:
    """Cloudflare's API answers code 10061 (workers-sdk issue #10246 quotes it)."""
    path = write("wrangler.toml", BASE + '\n[[migrations]]\ntag = "v1"\nnew_classes = ["X"]\n')
    with pytest.raises(ConfigError) as info:
        load_worker(path)
    message = str(info.value)
    assert "durable_objects.bindings[0].class_name" in message
    assert (
        "Cannot create binding for class 'Room' because it is not currently configured to "
        "implement Durable Objects. Ensure a --new-class migration has been applied to it. "
        "[code: 10061]" in message
    )


@pytest.mark.parametrize(
    ("migrations", "text"),
    [
        (
            '[[migrations]]\ntag = "v1"\ndeleted_classes = ["Nope"]\n',
            "Cannot apply deleted_classes migration to non-existent class Nope",
        ),
        (
            '[[migrations]]\ntag = "v1"\nrenamed_classes = [{ from = "A", to = "B" }]\n',
            "Cannot apply renamed_classes migration to non-existent class A",
        ),
        (
            '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Room"]\n'
            '[[migrations]]\ntag = "v2"\nnew_classes = ["Room"]\n',
            "Cannot apply new_classes migration to existing class Room",
        ),
    ],
)
def test_impossible_migrations_use_wranglers_wording(
    write: Write, migrations: str, text: str
) -> None:
    """wrangler src/dev/class-names-sqlite.ts."""
    path = write("wrangler.toml", BASE + "\n" + migrations)
    with pytest.raises(ConfigError, match=text):
        load_worker(path)


def test_malformed_entries_name_their_key(write: Write) -> None:
    path = write(
        "wrangler.toml",
        BASE + '\n[[migrations]]\ntag = "v1"\nrenamed_classes = ["Room"]\n',
    )
    with pytest.raises(ConfigError, match=r"migrations\[0\]\.renamed_classes"):
        load_worker(path)
    path = write("wrangler.toml", 'name = "w"\n[[durable_objects.bindings]]\nname = "X"\n')
    with pytest.raises(ConfigError, match=r"durable_objects\.bindings\[0\]\.class_name"):
        load_worker(path)


def test_migrations_are_inherited_by_environments_but_bindings_are_not(write: Write) -> None:
    path = write(
        "wrangler.toml",
        BASE
        + """
[[migrations]]
tag = "v1"
new_sqlite_classes = ["Room"]

[env.staging]
durable_objects = { bindings = [{ name = "ROOMS", class_name = "Room" }] }
""",
    )
    config = load_worker(path, env="staging")
    assert config.migrations[0].tag == "v1"
    assert config.durable_objects == (DurableObjectBinding("ROOMS", "Room"),)


def test_duplicate_binding_names_are_refused(write: Write) -> None:
    path = write(
        "wrangler.toml",
        """
name = "w"
main = "e.py"
[vars]
ROOMS = "x"
[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"
[[migrations]]
tag = "v1"
new_classes = ["Room"]
""",
    )
    with pytest.raises(ConfigError, match='binding name "ROOMS" is already used'):
        load_worker(path)
