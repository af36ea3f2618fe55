"""Read a wrangler config file (TOML, JSON or JSONC) into a plain dict, or a ConfigError
that says which file and, where the parser knows it, which line and column."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from wranglerpy.config.jsonc import JSONCError, loads_jsonc
from wranglerpy.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_SUFFIXES = (".json", ".jsonc", ".toml")

# tomllib puts the position at the end of its message: "... (at line 3, column 9)".
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_raw(path: Path) -> dict[str, Any]:
    """The top-level table of the config at ``path``."""
    label = display_path(path)
    if path.suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            f"unsupported config file type {path.suffix or '(none)'!r}; "
            "use wrangler.toml, wrangler.json or wrangler.jsonc",
            file=label,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=label) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a config file", file=label) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 ({exc.reason})", file=label) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", file=label) from None
    if path.suffix == ".toml":
        data = _parse_toml(text, label)
    else:
        data = _parse_json(text, label)
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a table/object", file=label)
    return data


def _parse_toml(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply", file=label) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match:
            reason = message[: match.start()]
            line, column = int(match.group(1)), int(match.group(2))
            raise ConfigError(
                f"invalid TOML: {reason}", file=label, line=line, column=column
            ) from None
        at_end = _TOML_AT_END.search(message)
        if at_end:
            line = text.count("\n") + 1
            raise ConfigError(
                f"invalid TOML: {message[: at_end.start()]} at end of file", file=label, line=line
            ) from None
        raise ConfigError(f"invalid TOML: {message}", file=label) from None


def _parse_json(text: str, label: str) -> Any:
    kind = "JSONC" if label.endswith(".jsonc") else "JSON"
    try:
        # wrangler reads .json files with the same comment-tolerant parser as .jsonc.
        return loads_jsonc(text)
    except JSONCError as exc:
        raise ConfigError(
            f"invalid {kind}: {exc.reason}", file=label, line=exc.line, column=exc.column
        ) from None
    except RecursionError:
        raise ConfigError(f"invalid {kind}: nested too deeply", file=label) from None


__all__ = ["CONFIG_SUFFIXES", "display_path", "read_raw"]
