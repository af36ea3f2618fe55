"""Typed access to the raw config dict: each getter checks the type and, on a mismatch,
raises a ConfigError naming the file and the key path (``d1_databases[0].binding``)."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wranglerpy.errors import ConfigError


def describe(value: object) -> str:
    """A short, user-readable rendering of a value of the wrong type."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float, str)):
        text = json.dumps(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return f"a date/time ({value.isoformat()})"
    return f"a {type(value).__name__}"


def join(path: str, key: str | int) -> str:
    """Extend a key path: ``join("vars", "X")`` -> ``vars.X``; ``join("kv", 0)`` -> ``kv[0]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


@dataclass
class Reader:
    """The file being read and the warnings collected while reading it."""

    file: str
    warnings: list[str] = field(default_factory=list)

    def error(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=key or None)

    def expect(self, key: str, what: str, value: object) -> ConfigError:
        return self.error(key, f"expected {what}, got {describe(value)}")

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # --- scalars -------------------------------------------------------------------------

    def string(
        self, table: dict[str, Any], key: str, path: str, required: bool = False
    ) -> str | None:
        where = join(path, key)
        if key not in table:
            if required:
                raise self.error(where, "is required")
            return None
        value = table[key]
        if not isinstance(value, str):
            raise self.expect(where, "a string", value)
        return value

    def required_string(self, table: dict[str, Any], key: str, path: str) -> str:
        value = self.string(table, key, path, required=True)
        assert value is not None  # required=True raised otherwise
        return value

    def boolean(self, table: dict[str, Any], key: str, path: str, default: bool) -> bool:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, bool):
            raise self.expect(join(path, key), "true or false", value)
        return value

    def integer(self, table: dict[str, Any], key: str, path: str) -> int | None:
        if key not in table:
            return None
        value = table[key]
        # bool is an int subclass in Python; `port = true` is still a type error.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.expect(join(path, key), "an integer", value)
        return value

    def port(self, table: dict[str, Any], key: str, path: str) -> int | None:
        value = self.integer(table, key, path)
        if value is not None and not 0 <= value <= 65535:
            raise self.error(join(path, key), f"port must be between 0 and 65535, got {value}")
        return value

    def number(self, table: dict[str, Any], key: str, path: str) -> float | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.expect(join(path, key), "a number", value)
        return float(value)

    def choice(
        self, table: dict[str, Any], key: str, path: str, allowed: Iterable[str]
    ) -> str | None:
        value = self.string(table, key, path)
        options = list(allowed)
        if value is not None and value not in options:
            listed = ", ".join(f'"{o}"' for o in options)
            raise self.error(join(path, key), f'expected one of {listed}, got "{value}"')
        return value

    def string_list(self, table: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        if key not in table:
            return ()
        value = table[key]
        where = join(path, key)
        if not isinstance(value, list):
            raise self.expect(where, "a list of strings", value)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.expect(join(where, i), "a string", item)
        return tuple(value)

    # --- containers ----------------------------------------------------------------------

    def table(self, table: dict[str, Any], key: str, path: str) -> dict[str, Any] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, dict):
            raise self.expect(join(path, key), "a table", value)
        return value

    def table_list(
        self, table: dict[str, Any], key: str, path: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """``[[key]]`` entries with their key paths (``key[0]``, ``key[1]``, ...)."""
        if key not in table:
            return []
        value = table[key]
        where = join(path, key)
        if not isinstance(value, list):
            raise self.expect(where, "a list of tables", value)
        entries: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.expect(join(where, i), "a table", item)
            entries.append((join(where, i), item))
        return entries

    def unknown_keys(self, table: dict[str, Any], known: Iterable[str], where: str) -> None:
        """Warn (as wrangler does) about keys this table does not define."""
        known_set = set(known)
        extra = [k for k in table if k not in known_set]
        if extra:
            names = ", ".join(f'"{k}"' for k in extra)
            self.warn(f"Unexpected fields found in {where} field: {names}")

    def identifier(self, table: dict[str, Any], key: str, path: str) -> str:
        """A required binding name: a string that is a valid identifier."""
        value = self.required_string(table, key, path)
        if not value.isidentifier():
            raise self.error(
                join(path, key),
                f'binding name "{value}" is not a valid identifier '
                "(letters, digits and _, not starting with a digit)",
            )
        if value.startswith("__") and value.endswith("__"):
            # env.__class__ (or any dunder) is Python's own attribute on the env object, here
            # and in Pyodide on Cloudflare: the binding could never be reached.
            raise self.error(
                join(path, key),
                f'binding name "{value}" cannot be used: names that start and end with "__" '
                "are Python's own attributes of env, so worker code could never reach it",
            )
        return value
