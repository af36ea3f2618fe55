"""``[[hyperdrive]]``: ``env.<binding>`` carries the local database's connection details, as
``wrangler dev`` gives them to Node-side code (miniflare ``plugins/hyperdrive/index.ts``):
``connectionString``, ``host``, ``port``, ``user``, ``password``, ``database``. Queries go
straight to that database (there is no pooling or caching proxy locally).

The connection string is checked with miniflare's rules (``HyperdriveSchema``): a
postgres(ql):// or mysql:// URL with a host, a database path, a user and a password.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from wranglerpy.config.schema import Hyperdrive
from wranglerpy.config.small_bindings import HYPERDRIVE_ENV_PREFIX
from wranglerpy.errors import BindingError

_DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "mysql": 3306}


class HyperdriveBinding:
    """The fields of a Hyperdrive binding; read-only."""

    def __init__(self, connection_string: str) -> None:
        url = urlsplit(connection_string)
        scheme = url.scheme.lower()
        if not scheme:
            raise BindingError(
                "You must specify the database protocol - e.g. 'postgresql'/'mysql'."
            )
        if scheme not in _DEFAULT_PORTS:
            raise BindingError(
                "Only PostgreSQL-compatible or MySQL-compatible databases are currently supported."
            )
        if not url.hostname:
            raise BindingError(
                "You must provide a hostname or IP address in your connection string - e.g. "
                "'user:password@database-hostname.example.com:5432/databasename"
            )
        if not url.path.strip("/"):
            raise BindingError(
                "You must provide a database name as the path component - e.g. /postgres"
            )
        if not url.username:
            raise BindingError(
                "You must provide a username - e.g. "
                "'user:password@database.example.com:port/databasename'"
            )
        if not url.password:
            raise BindingError(
                "You must provide a password - e.g. "
                "'user:password@database.example.com:port/databasename'"
            )
        try:
            port = url.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise BindingError(f"Invalid port in the connection string: {exc}") from None
        self.connectionString = connection_string  # noqa: N815 - the JS name
        self.host = url.hostname
        self.port = port
        self.user = unquote(url.username)
        self.password = unquote(url.password)
        self.database = unquote(url.path.lstrip("/"))
        self.scheme = scheme

    def __repr__(self) -> str:
        return f"<Hyperdrive {self.scheme}://{self.user}@{self.host}:{self.port}/{self.database}>"


def create(config: Hyperdrive, persist_dir: object = None) -> HyperdriveBinding:
    if config.connection_string is None:
        # wrangler dev refuses to start here (dev.ts, applyHyperdriveEnvVars); the worker's
        # other routes keep working and this binding explains itself on use.
        raise BindingError(
            "When developing locally, you should use a local Postgres connection string to "
            "emulate Hyperdrive functionality. Please setup Postgres locally and set the value "
            f"of the '{HYPERDRIVE_ENV_PREFIX}{config.binding}' variable or "
            f'"{config.binding}"\'s "localConnectionString" to the Postgres connection string.'
        )
    return HyperdriveBinding(config.connection_string)
