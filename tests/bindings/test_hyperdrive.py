"""Hyperdrive's fields from the local connection string (miniflare
``packages/miniflare/src/plugins/hyperdrive/index.ts``: ``HyperdriveSchema`` and
``getNodeBindings``)."""

import pytest

from wranglerpy.bindings import hyperdrive
from wranglerpy.config.schema import Hyperdrive
from wranglerpy.errors import BindingError


def test_fields_from_the_connection_string() -> None:
    url = "postgresql://us%40er:p%3Ass@db.local:6543/my%20db"
    hd = hyperdrive.create(Hyperdrive("HD", "id", url))
    assert hd.connectionString == url
    assert (hd.host, hd.port, hd.user, hd.password, hd.database) == (
        "db.local",
        6543,
        "us@er",
        "p:ss",
        "my db",
    )
    mysql = hyperdrive.create(Hyperdrive("HD", "id", "mysql://u:p@localhost/app"))
    assert mysql.port == 3306


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://u:p@h/db", "Only PostgreSQL-compatible or MySQL-compatible"),
        ("postgres://u:p@h", "database name"),
        ("postgres://:p@h/db", "username"),
        ("postgres://u@h/db", "password"),
        ("//u:p@h/db", "protocol"),
    ],
)
def test_bad_connection_strings(url: str, message: str) -> None:
    with pytest.raises(BindingError, match=message):
        hyperdrive.create(Hyperdrive("HD", "id", url))


def test_without_a_connection_string_it_names_the_variable() -> None:
    """wrangler dev.ts, applyHyperdriveEnvVars: the same advice, naming the env var."""
    with pytest.raises(BindingError, match="CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HD"):
        hyperdrive.create(Hyperdrive("HD", "id", None))
